"""Evaluation metrics registered in mmseg's ``METRICS``."""
from .metrics import PresentClassIoUMetric, SeenUnseenIoUMetric

__all__ = ['PresentClassIoUMetric', 'SeenUnseenIoUMetric']
