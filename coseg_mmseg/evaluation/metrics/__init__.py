from .seen_unseen_iou_metric import SeenUnseenIoUMetric

__all__ = ['SeenUnseenIoUMetric']
