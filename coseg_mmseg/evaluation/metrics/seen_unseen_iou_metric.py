"""SeenUnseenIoUMetric: mIoU over seen and unseen classes and their harmonic mean (hIoU)."""
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger, print_log
from mmseg.evaluation.metrics import IoUMetric
from mmseg.registry import METRICS


def harmonic_mean(a: float, b: float) -> float:
    """2ab / (a + b); 0 when both are 0, nan when either is nan."""
    if np.isnan(a) or np.isnan(b):
        return float('nan')
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


@METRICS.register_module()
class SeenUnseenIoUMetric(IoUMetric):
    """The generalized zero-shot segmentation metric (ZegCLIP, ZegFormer): mmseg's
    :class:`IoUMetric` over a vocabulary of seen and unseen classes, with the mean IoU over
    each group and their harmonic mean.

    Returns, besides ``IoUMetric``'s ``aAcc``, ``mIoU`` (over all classes) and the others
    asked for in ``iou_metrics``: ``seen_mIoU``, ``unseen_mIoU`` and
    ``hIoU = 2 * seen * unseen / (seen + unseen)``, in percent like ``mIoU``. Each group's
    mean counts the classes ``IoUMetric``'s does (classes neither labelled nor predicted
    anywhere are left out).

    Args:
        unseen_classes: Names of the unseen classes (of ``dataset_meta['classes']``).
            ``None``: the dataset's ``metainfo['unseen_classes']`` (``OpenWorldDataset``
            sets it with ``vocabulary='all'``). Every other class of the dataset is seen.
        **kwargs: :class:`mmseg.evaluation.IoUMetric`'s arguments.
    """

    def __init__(self, unseen_classes: Optional[Sequence[str]] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(unseen_classes, str):
            raise ValueError(f'SeenUnseenIoUMetric.unseen_classes must be a list of names, '
                             f'got the string {unseen_classes!r}')
        self.unseen_classes = None if unseen_classes is None else tuple(unseen_classes)

    def _unseen_mask(self) -> np.ndarray:
        """(K,) bool: which of ``dataset_meta['classes']`` are unseen, checked."""
        classes = list(self.dataset_meta['classes'])
        unseen = self.unseen_classes
        if unseen is None:
            unseen = self.dataset_meta.get('unseen_classes')
        if unseen is None:
            raise ValueError('SeenUnseenIoUMetric needs the unseen classes: set '
                             'unseen_classes=[...] in the evaluator or use a dataset whose '
                             "metainfo has 'unseen_classes'")
        unknown = [name for name in unseen if name not in classes]
        if unknown:
            raise ValueError(f'SeenUnseenIoUMetric: unseen classes {unknown[:5]} are not '
                             f'among the dataset\'s {len(classes)} classes')
        mask = np.array([name in set(unseen) for name in classes])
        if mask.all() or not mask.any():
            raise ValueError(f'SeenUnseenIoUMetric needs seen and unseen classes, got '
                             f'{int(mask.sum())} unseen of {len(classes)}')
        return mask

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """IoUMetric's metrics plus ``seen_mIoU``, ``unseen_mIoU`` and ``hIoU`` (percent).

        Args:
            results: Per image, IoUMetric's ``(intersect, union, pred_area, label_area)``,
                each (K,).
        """
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        unseen = self._unseen_mask()
        intersect = sum(r[0] for r in results).numpy().astype(np.float64)
        union = sum(r[1] for r in results).numpy().astype(np.float64)
        with np.errstate(invalid='ignore', divide='ignore'):
            iou = intersect / union  # nan: neither labelled nor predicted

        def group_mean(mask: np.ndarray) -> float:
            values = iou[mask]
            values = values[~np.isnan(values)]
            return float(np.round(values.mean() * 100, 2)) if values.size else float('nan')

        seen_miou, unseen_miou = group_mean(~unseen), group_mean(unseen)
        metrics['seen_mIoU'] = seen_miou
        metrics['unseen_mIoU'] = unseen_miou
        metrics['hIoU'] = round(harmonic_mean(seen_miou, unseen_miou), 2)
        print_log(f'seen mIoU {seen_miou:.2f} ({int((~unseen).sum())} classes), unseen mIoU '
                  f'{unseen_miou:.2f} ({int(unseen.sum())} classes), hIoU '
                  f'{metrics["hIoU"]:.2f}', MMLogger.get_current_instance())
        return metrics
