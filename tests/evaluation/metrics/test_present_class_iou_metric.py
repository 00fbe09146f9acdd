"""PresentClassIoUMetric against a hand computation."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

from coseg_mmseg.evaluation import PresentClassIoUMetric

CLASSES = ('a', 'b', 'c', 'd', 'e')


def sample(pred, gt) -> dict:
    s = SegDataSample()
    s.pred_sem_seg = PixelData(data=torch.tensor([pred]))
    s.gt_sem_seg = PixelData(data=torch.tensor([gt]))
    return s.to_dict()


def compute(*pairs) -> dict:
    metric = PresentClassIoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process([], [sample(pred, gt) for pred, gt in pairs])
    return metric.compute_metrics(metric.results)


def test_values_by_hand():
    # Two images of 1 x 6 pixels (255: ignored). Over both, per class:
    #   a: pred {i1p0, i1p1}, gt {i1p0, i1p1, i1p2}            -> 2 / 3 (present)
    #   b: pred {i1p2, i2p0}, gt {i2p0, i2p1}                  -> 1 / 3 (present)
    #   c: pred {i1p3, i1p4}, gt none                          -> 0     (spurious)
    #   d: pred {i2p1}, gt none                                -> 0     (spurious)
    #   e: pred {i2p2..5} (i1p5 ignored), gt {i1p3, i1p4, i2p2..5} -> 4 / 6 (present)
    out = compute(([0, 0, 1, 2, 2, 4], [0, 0, 0, 4, 4, 255]),
                  ([1, 3, 4, 4, 4, 4], [1, 1, 4, 4, 4, 4]))
    present = [66.67, 33.33, 66.67]  # each class as IoUMetric's table shows it
    assert out['present_mIoU'] == round(sum(present) / 3, 2) == 55.56
    assert out['spurious_classes'] == 2
    assert out['mIoU'] == pytest.approx((2 / 3 + 1 / 3 + 4 / 6) / 5 * 100, abs=0.01)


def test_no_spurious_class_gives_the_mean_over_the_labelled_ones():
    # Class 'e' neither labelled nor predicted: left out; d labelled, never predicted: IoU 0.
    out = compute(([0, 1, 2, 2], [0, 1, 2, 3]))
    assert out['spurious_classes'] == 0
    assert out['present_mIoU'] == pytest.approx((100 + 100 + 50 + 0) / 4)


def test_registered():
    assert METRICS.get('PresentClassIoUMetric') is PresentClassIoUMetric
