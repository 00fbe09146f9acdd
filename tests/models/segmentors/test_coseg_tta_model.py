"""CoSegTTAModel: the views' scores averaged as they are, then the model's no-label rule."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import nn

from coseg_mmseg.models import CoSegTTAModel
from coseg_mmseg.models.segmentors.coseg_base import CoSegBase


class Segmentor(nn.Module):
    """What CoSegTTAModel reads of a segmentor: its scores_to_labels (CoSegBase's, reading
    decode_head's threshold and ignore index)."""

    scores_to_labels = CoSegBase.scores_to_labels

    def __init__(self, threshold=0.3, ignore_index=255):
        super().__init__()
        self.decode_head = nn.Module()
        self.decode_head.mask_threshold = threshold
        self.decode_head.ignore_index = ignore_index
        self.classes = None

    def test_step(self, data):  # BaseTTAModel checks it exists
        raise NotImplementedError

    def set_dataset_classes(self, classes, *, split, dataset='dataset'):
        self.classes = (tuple(classes), split, dataset)


def view(scores):
    sample = SegDataSample(metainfo=dict(img_path='a.jpg', ori_shape=scores.shape[1:]))
    sample.seg_logits = PixelData(data=scores)
    return sample


def test_scores_are_averaged_then_thresholded():
    # Pixel 0: class 1 wins on average (0.5 vs 0.4). Pixel 1: no class reaches 0.3 on average
    # (0.25, 0.2), though class 0 does in one view. Pixel 2: class 0 (0.9).
    a = torch.tensor([[[0.6, 0.4, 0.9]], [[0.5, 0.1, 0.0]]])  # (K=2, H=1, W=3)
    b = torch.tensor([[[0.2, 0.1, 0.9]], [[0.5, 0.3, 0.2]]])
    model = CoSegTTAModel(module=Segmentor())
    merged, = model.merge_preds([[view(a), view(b)]])
    torch.testing.assert_close(merged.seg_logits.data, (a + b) / 2)
    assert merged.pred_sem_seg.data.tolist() == [[[1, 255, 0]]]
    # mmseg's SegTTAModel: softmax average and argmax; pixel 1 gets class 0, not "no label".
    from mmseg.models.segmentors import SegTTAModel
    segmentor = Segmentor()
    segmentor.out_channels = 2
    mmseg_merged, = SegTTAModel(module=segmentor).merge_preds([[view(a), view(b)]])
    assert mmseg_merged.pred_sem_seg.data.tolist() == [[[1, 0, 0]]]


def test_one_class_vocabulary():
    scores = torch.tensor([[[0.9, 0.1]]])  # (K=1, 1, 2)
    merged, = CoSegTTAModel(module=Segmentor(ignore_index=7)).merge_preds([[view(scores)]])
    assert merged.pred_sem_seg.data.tolist() == [[[0, 7]]]


def test_the_vocabulary_hook_reaches_the_segmentor():
    model = CoSegTTAModel(module=Segmentor())
    model.set_dataset_classes(['cat', 'dog'], split='test', dataset='Tiny')
    assert model.module.classes == (('cat', 'dog'), 'test', 'Tiny')


@pytest.mark.parametrize('views', [1, 3])
def test_every_image_of_the_batch_is_merged(views):
    batch = [[view(torch.rand(2, 2, 2)) for _ in range(views)] for _ in range(4)]
    merged = CoSegTTAModel(module=Segmentor()).merge_preds(batch)
    assert len(merged) == 4 and all(m.pred_sem_seg.data.shape == (1, 2, 2) for m in merged)
