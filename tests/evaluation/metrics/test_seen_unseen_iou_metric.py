"""SeenUnseenIoUMetric against a hand computation."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from coseg_mmseg.evaluation import SeenUnseenIoUMetric

CLASSES = ('a', 'b', 'c', 'd')  # b and d unseen


def sample(pred, gt) -> dict:
    s = SegDataSample()
    s.pred_sem_seg = PixelData(data=torch.tensor([pred]))
    s.gt_sem_seg = PixelData(data=torch.tensor([gt]))
    return s.to_dict()


def run(metric: SeenUnseenIoUMetric, meta: dict) -> dict:
    metric.dataset_meta = meta
    # Two images of 1 x 4 pixels (255: ignored).
    metric.process([], [sample([0, 0, 1, 1], [0, 1, 1, 255]),
                        sample([2, 3, 3, 3], [2, 2, 3, 3])])
    return metric.compute_metrics(metric.results)


def test_values_by_hand():
    # Over both images, per class: intersection / union
    #   a: pred {i1p0, i1p1}, gt {i1p0}                    -> 1 / 2
    #   b: pred {i1p2} (i1p3 ignored), gt {i1p1, i1p2}     -> 1 / 2
    #   c: pred {i2p0}, gt {i2p0, i2p1}                    -> 1 / 2
    #   d: pred {i2p1, i2p2, i2p3}, gt {i2p2, i2p3}        -> 2 / 3
    seen = (1 / 2 + 1 / 2) / 2 * 100
    unseen = (1 / 2 + 2 / 3) / 2 * 100
    for metric, meta in [(SeenUnseenIoUMetric(unseen_classes=['b', 'd']), dict(classes=CLASSES)),
                         (SeenUnseenIoUMetric(), dict(classes=CLASSES,
                                                      unseen_classes=('b', 'd')))]:
        out = run(metric, meta)
        assert out['seen_mIoU'] == pytest.approx(seen, abs=0.01)
        assert out['unseen_mIoU'] == pytest.approx(unseen, abs=0.01)
        assert out['hIoU'] == pytest.approx(2 * seen * unseen / (seen + unseen), abs=0.02)
        assert out['mIoU'] == pytest.approx((3 / 2 + 2 / 3) / 4 * 100, abs=0.01)


def test_unequal_groups_and_absent_classes():
    # a and b seen, c unseen, d neither labelled nor predicted: left out of every mean.
    metric = SeenUnseenIoUMetric(unseen_classes=['c', 'd'])
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process([], [sample([0, 1, 2, 2], [0, 0, 2, 255])])
    out = metric.compute_metrics(metric.results)
    # a: 1/2, b: 0/1 (predicted, not labelled), c: 1/1
    assert out['seen_mIoU'] == pytest.approx(25.0)
    assert out['unseen_mIoU'] == pytest.approx(100.0)
    assert out['hIoU'] == pytest.approx(40.0)


def test_missing_or_unknown_unseen_classes_are_refused():
    with pytest.raises(ValueError, match='needs the unseen classes'):
        run(SeenUnseenIoUMetric(), dict(classes=CLASSES))
    with pytest.raises(ValueError, match=r"\['z'\]"):
        run(SeenUnseenIoUMetric(unseen_classes=['z']), dict(classes=CLASSES))
    with pytest.raises(ValueError, match='list of names'):
        SeenUnseenIoUMetric(unseen_classes='b')


def test_registered():
    from mmseg.registry import METRICS
    assert METRICS.get('SeenUnseenIoUMetric') is SeenUnseenIoUMetric
