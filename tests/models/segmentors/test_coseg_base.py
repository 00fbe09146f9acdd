"""What CoSeg and CoSegNoTrain share: post-processing, vocabulary defaults, mmseg's arguments."""
import pytest
import torch
from mmseg.utils import get_classes

from tests.models.segmentors.test_coseg import VOCAB, build_model, sample


def test_one_class_vocabulary_is_one_class_not_binary_segmentation():
    """K = 1: label 0 where the class's score reaches the threshold, "no label" elsewhere
    (mmseg's one-channel branch would apply a sigmoid to the probabilities and give 1s)."""
    model = build_model(test_vocabulary=['dog'])
    scores = torch.tensor([[[[0.9, 0.2], [0.31, 0.0]]]])  # (1, 1, 2, 2)
    result = model.postprocess_result(scores, [sample(2, 2)])[0]
    assert result.pred_sem_seg.data.tolist() == [[[0, 255], [0, 255]]]
    torch.testing.assert_close(result.seg_logits.data, scores[0])
    model.eval()
    with torch.no_grad():
        pred = model.predict(torch.randn(1, 3, 64, 64), [sample()])[0]
    assert pred.seg_logits.data.shape == (1, 64, 64)
    labels = pred.pred_sem_seg.data[0]
    assert set(labels.unique().tolist()) <= {0, 255}
    assert torch.equal(labels == 0, pred.seg_logits.data[0] >= 0.3)


@pytest.mark.parametrize('threshold', [0.5, 0.25])
def test_a_score_equal_to_the_threshold_is_labelled(threshold):
    """"No label" strictly below ``mask_threshold``: a best score equal to it keeps its class,
    the next float32 below it does not."""
    model = build_model(test_vocabulary=VOCAB)
    model.decode_head.mask_threshold = threshold
    at = torch.tensor(threshold)
    below = torch.nextafter(at, torch.tensor(0.0))
    scores = torch.zeros(1, 3, 1, 3)
    scores[0, 1, 0, 0] = at  # class 1 exactly at the threshold
    scores[0, 2, 0, 1] = below  # class 2 a hair below it
    scores[0, 0, 0, 2], scores[0, 2, 0, 2] = below, at  # the best of two decides
    result = model.postprocess_result(scores, [sample(1, 3)])[0]
    assert result.pred_sem_seg.data.tolist() == [[[1, 255, 2]]]


def test_post_processing_removes_padding_undoes_flip_and_resizes():
    model = build_model(test_vocabulary=VOCAB)
    scores = torch.zeros(1, 3, 4, 6)
    scores[0, 1, :, 0] = 0.9  # left column of the (4, 4) image before a horizontal flip
    meta = dict(img_shape=(4, 4), ori_shape=(8, 8), pad_shape=(4, 6),
                padding_size=[0, 2, 0, 0], flip=True, flip_direction='horizontal')
    s = sample(4, 6)
    s.set_metainfo(meta)
    result = model.postprocess_result(scores, [s])[0]
    labels = result.pred_sem_seg.data[0]
    assert labels.shape == (8, 8)
    assert (labels[:, -2:] == 1).all() and (labels[:, :4] == 255).all()


def test_no_samples_labels_at_the_input_size():
    model = build_model(test_vocabulary=VOCAB)
    scores = torch.zeros(2, 3, 4, 4)
    scores[:, 2] = 0.5
    results = model.postprocess_result(scores)
    assert [r.pred_sem_seg.data.unique().tolist() for r in results] == [[2], [2]]


def test_mmseg_pretrained_argument():
    """mmseg's init_model always sets model.pretrained = None; a real value is refused."""
    assert build_model(pretrained=None).num_classes is None
    with pytest.raises(ValueError, match="model.pretrained='x.pth' is not used by CoSeg"):
        build_model(pretrained='x.pth')


def test_dataset_meta_gives_the_default_test_vocabulary_and_reads_back():
    model = build_model()
    model.dataset_meta = dict(classes=('sky', 'sea'), palette=[[0, 0, 255], [255, 0, 0]])
    assert model.vocabulary_names('test') == ('sky', 'sea')
    assert model.dataset_meta == dict(classes=('sky', 'sea'), palette=[[0, 0, 255], [255, 0, 0]])
    assert model.out_channels == 2
    model.set_vocabulary('dog, cat, bird')  # another vocabulary: meta follows, new palette
    meta = model.dataset_meta
    assert meta['classes'] == ('dog', 'cat', 'bird') and len(meta['palette']) == 3
    fixed = build_model(test_vocabulary=VOCAB)
    fixed.dataset_meta = dict(classes=('sky', 'sea'), palette=None)
    assert fixed.vocabulary_names('test') == VOCAB  # the config's fixed vocabulary wins


def test_cityscapes_fallback_of_mmseg_is_not_a_vocabulary():
    """MMSegInferencer sets Cityscapes' classes when a checkpoint names none."""
    model = build_model()
    model.dataset_meta = dict(classes=get_classes('cityscapes'), palette=None)
    with pytest.raises(RuntimeError, match='no test vocabulary'):
        model.vocabulary_names('test')


def test_seen_classes_resolution_and_mask():
    """Seen classes: set_seen_classes, else the training vocabulary, else the checkpoint's
    training classes; the mask follows the test vocabulary, "unlabeled" never seen."""
    model = build_model()
    assert model.seen_classes is None
    with pytest.raises(RuntimeError, match='seen_calibration needs'):
        model.seen_mask(['a'])
    model.dataset_meta = dict(classes=('sky', 'sea'))
    assert model.seen_classes == ('sky', 'sea')
    model.set_vocabulary(['sky', 'tree'], split='train')
    assert model.seen_classes == ('sky', 'tree')
    model.set_seen_classes(['sea'])
    assert model.seen_mask(['sky', 'sea', 'tree']).tolist() == [False, True, False, False]
    model.set_seen_classes(None)
    assert model.seen_mask(['sky', 'sea', 'tree']).tolist() == [True, False, True, False]


def test_seen_calibration_reaches_the_head_at_inference_only():
    model = build_model(test_vocabulary=['sky', 'sea', 'tree'])
    model.decode_head.seen_calibration = 0.5
    model.set_seen_classes(['sky'])
    model.eval()
    feats = model.extract_feat(torch.randn(1, 3, 64, 64))
    assert feats['seen_mask'].tolist() == [True, False, False, False]
    model.train()
    model.set_vocabulary(['sky'], split='train')
    assert 'seen_mask' not in model.extract_feat(torch.randn(1, 3, 64, 64))
