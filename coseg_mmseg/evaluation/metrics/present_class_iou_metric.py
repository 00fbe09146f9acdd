"""PresentClassIoUMetric: mIoU over the classes the labels hold, and the classes only predicted."""
from typing import Dict

import numpy as np
from mmseg.evaluation.metrics import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class PresentClassIoUMetric(IoUMetric):
    """mmseg's :class:`IoUMetric`, plus what its per-class table shows but does not return.

    ``IoUMetric``'s ``mIoU`` averages every class with a prediction or a label: a class that
    is predicted but absent from the labels (spurious) counts with IoU 0. Besides ``aAcc``,
    ``mIoU`` and the others asked for in ``iou_metrics``, this returns:

    - ``present_mIoU``: the mean IoU over the classes with labelled pixels, each class's IoU
      taken as ``IoUMetric`` reports it per class (percent, rounded to 2 decimals), the mean
      rounded to 2 decimals;
    - ``spurious_classes``: how many classes have predicted pixels but no labelled one.

    Returned, they reach ``runner.test()``'s result and the metrics file mmengine writes in
    the work dir (``<timestamp>/<timestamp>.json``), where tools read them.

    Args:
        **kwargs: :class:`mmseg.evaluation.IoUMetric`'s arguments.
    """

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """IoUMetric's metrics plus ``present_mIoU`` (percent) and ``spurious_classes``.

        Args:
            results: Per image, IoUMetric's ``(intersect, union, pred_area, label_area)``,
                each (K,).
        """
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        intersect, union, pred_area, label_area = (sum(r[i] for r in results) for i in range(4))
        iou = self.total_area_to_metrics(intersect, union, pred_area, label_area, ['mIoU'],
                                         self.nan_to_num, self.beta)['IoU']
        per_class = np.round(iou * 100, 2)  # as IoUMetric's per-class table
        present = label_area.numpy() > 0
        values = [round(float(v), 2) for v in per_class[present]]
        metrics['present_mIoU'] = round(sum(values) / len(values), 2) if values else float('nan')
        metrics['spurious_classes'] = int(((pred_area.numpy() > 0) & ~present).sum())
        return metrics
