from .present_class_iou_metric import PresentClassIoUMetric
from .seen_unseen_iou_metric import SeenUnseenIoUMetric

__all__ = ['PresentClassIoUMetric', 'SeenUnseenIoUMetric']
