"""Evaluation metrics registered in mmseg's ``METRICS``."""
from .metrics import SeenUnseenIoUMetric

__all__ = ['SeenUnseenIoUMetric']
