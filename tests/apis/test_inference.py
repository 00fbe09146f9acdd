"""The Python API and tools/demo.py on the tiny model."""
import json
import os

import cv2
import numpy as np
import pytest

from coseg_mmseg.apis import init_model, segment, slot_predictions
from tests.helpers import REPO, TINY_CONFIG, run_tool, save_tiny_checkpoint

WORDS = ('grass', 'sea', 'road', 'person')


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """Tiny assets under data/tiny and a checkpoint of a (randomly initialised) tiny CoSeg."""
    root = tmp_path_factory.mktemp('api')
    save_tiny_checkpoint(str(root), 'tiny.pth')
    return root


@pytest.fixture
def in_workspace(tiny_checkpoint, monkeypatch):
    monkeypatch.chdir(tiny_checkpoint)
    return tiny_checkpoint


IMAGE = 'data/tiny/coco_stuff164k/images/val2017/000000000002.jpg'


def test_segment_path_and_array(in_workspace):
    model = init_model(TINY_CONFIG, 'tiny.pth')
    by_path = segment(model, IMAGE, list(WORDS))
    by_array = segment(model, cv2.imread(IMAGE), list(WORDS))
    height, width = cv2.imread(IMAGE).shape[:2]
    assert by_path.label_map.shape == (height, width)
    assert by_path.scores.shape[0] == len(WORDS)
    assert by_path.image_scores().shape == (len(WORDS), height, width)
    assert by_path.names == WORDS
    assert (by_path.label_map == by_array.label_map).all()
    scores = by_path.image_scores()  # (K, H, W) at the image size
    expected = np.where(scores.max(axis=0) >= 0.3, scores.argmax(axis=0), by_path.no_label)
    np.testing.assert_array_equal(by_path.label_map, expected)
    shares = {WORDS[i]: float((expected == i).mean()) for i in range(len(WORDS))
              if (expected == i).any()}
    assert by_path.present() == pytest.approx(shares)
    slots = slot_predictions(model, IMAGE, list(WORDS))
    assert len(slots) == model.neck.num_slots
    assert all(name in WORDS + ('unlabeled', ) for s in slots for name, _ in s['labels'])


@pytest.mark.slow
def test_one_word_vocabulary(in_workspace):
    """One class is a class: labels 0 or "no label", in the API and the demo."""
    model = init_model(TINY_CONFIG, 'tiny.pth')
    result = segment(model, IMAGE, ['dog'])
    assert result.scores.shape[0] == 1 and result.names == ('dog', )
    assert set(result.label_map.ravel().tolist()) <= {0, result.no_label}
    assert ((result.label_map == 0) == (result.image_scores()[0] >= 0.3)).all()
    demo = run_tool('demo.py', IMAGE, '--vocab', 'dog', '--config', TINY_CONFIG,
                    '--checkpoint', 'tiny.pth', '--out', 'out/dog.png', '--show-slots',
                    cwd=str(in_workspace))
    assert demo.returncode == 0, demo.stdout[-3000:]
    assert json.load(open('out/dog.json'))['legend'] == ['dog']


NO_TRAIN_TINY = os.path.join(REPO, 'configs/tiny/coseg_no-train_tiny_cocostuff.py')


@pytest.mark.parametrize('config', [TINY_CONFIG, NO_TRAIN_TINY])
def test_slots_are_named_as_the_model_labels_pixels(in_workspace, config):
    """slot_predictions shows the labels the model itself gives its slots: every class in
    segment()'s label map is some slot's best label; the baseline's slots are its ranking."""
    model = init_model(config, 'tiny.pth' if config == TINY_CONFIG else None)
    slots = slot_predictions(model, IMAGE, list(WORDS))
    best = [s['labels'][0][0] for s in slots]
    result = segment(model, IMAGE, list(WORDS))
    present = {WORDS[i] for i in set(result.label_map.ravel().tolist()) - {result.no_label}}
    assert present and present <= set(best)
    if config == NO_TRAIN_TINY:
        from coseg_mmseg.apis.inference import prepare_inputs
        inputs, samples = prepare_inputs(model, IMAGE)
        ranked = model.extract_feat(inputs, [s.metainfo for s in samples])['slot_classes']
        ranked = ranked[0].tolist()
        assert best == [WORDS[i] for i in ranked]
        assert all(s['labels'][0][1] == 1.0 for s in slots)


def test_other_vocabulary_same_model(in_workspace):
    model = init_model(TINY_CONFIG, 'tiny.pth')
    assert segment(model, IMAGE, 'voc20').scores.shape[0] == 20
    assert segment(model, IMAGE, ['sky', 'tree']).names == ('sky', 'tree')


@pytest.mark.slow
def test_demo_tool(in_workspace):
    result = run_tool('demo.py', IMAGE, '--vocab', ','.join(WORDS), '--config', TINY_CONFIG,
                      '--checkpoint', 'tiny.pth', '--out', 'out/demo.png', '--show-slots',
                      '--mark-unseen', 'sea,road', cwd=str(in_workspace))
    assert result.returncode == 0, result.stdout[-3000:]
    drawn = cv2.imread('out/demo.png')
    assert drawn is not None and drawn.shape == cv2.imread(IMAGE).shape
    assert not (drawn == cv2.imread(IMAGE)).all()  # something was drawn
    legend = json.load(open('out/demo.json'))
    assert legend['legend'] == list(WORDS)
    assert set(legend['present']) <= set(WORDS)
    assert legend['unseen'] == ['sea', 'road']
    assert os.path.getsize('out/demo_slots.png') > 1000
    assert f'legend: {", ".join(WORDS)}' in result.stdout


@pytest.mark.slow
def test_demo_marks_only_words_of_the_vocabulary(in_workspace):
    result = run_tool('demo.py', IMAGE, '--vocab', ','.join(WORDS), '--mark-unseen', 'sky',
                      '--config', TINY_CONFIG, '--checkpoint', 'tiny.pth', cwd=str(in_workspace))
    assert result.returncode == 2
    assert "--mark-unseen names ['sky'], which --vocab does not hold" in result.stdout


@pytest.mark.slow
def test_demo_unknown_vocabulary_format(in_workspace):
    result = run_tool('demo.py', IMAGE, '--vocab', 'grass;sea', '--config', TINY_CONFIG,
                      '--checkpoint', 'tiny.pth', cwd=str(in_workspace))
    assert result.returncode != 0
    assert 'separate the words with commas' in result.stdout


def test_init_model_refuses_num_classes_in_one_line(tmp_path):
    """A head config copied from mmseg (``num_classes``) fails in one line, not a TypeError."""
    from coseg_mmseg.utils import UserError
    old = tmp_path / 'old_config.py'
    old.write_text(f"_base_ = [{TINY_CONFIG!r}]\n"
                   f"model = dict(decode_head=dict(num_classes=171))\n")
    with pytest.raises(UserError, match="model.decode_head.num_classes .* not taken by "
                                        "FiLMCLIPSegHead: .*delete it"):
        init_model(str(old))


def test_labels_are_those_of_the_full_size_path(in_workspace):
    """segment() labels without K full-size score maps; the labels are mmseg's predict()'s
    (which upsamples all K maps), on an image whose size is not a multiple of the network's,
    and those of upsampling result.scores here."""
    import torch
    import torch.nn.functional as F

    from coseg_mmseg.apis.inference import prepare_inputs
    model = init_model(TINY_CONFIG, 'tiny.pth')
    image = cv2.resize(cv2.imread(IMAGE), (173, 97))
    words = list(WORDS) + ['sky', 'tree', 'car', 'water', 'wall', 'dog', 'cat', 'sand']
    model.decode_head.mask_threshold = 0.05  # most pixels labelled: the argmax decides
    result = segment(model, image, words)
    inputs, samples = prepare_inputs(model, image)
    old = model.predict(inputs, samples)[0]
    expected = old.pred_sem_seg.data[0].numpy()
    assert result.label_map.shape == (97, 173) and result.label_map.dtype == np.int64
    assert len(np.unique(expected)) > 2  # several classes: the comparison means something
    np.testing.assert_array_equal(result.label_map, expected)
    full = F.interpolate(torch.from_numpy(result.scores)[None], size=(97, 173),
                         mode='bilinear', align_corners=False)[0]
    np.testing.assert_array_equal(result.image_scores(), full.numpy())
    best, labels = full.max(dim=0)
    labels[best < 0.05] = result.no_label
    np.testing.assert_array_equal(result.label_map, labels.numpy())
    assert result.scores.shape[0] == len(words) and result.scores.shape[1:] != (97, 173)


def test_image_above_the_pixel_limit_is_refused_before_decoding(in_workspace, tmp_path):
    big = str(tmp_path / 'big.png')
    cv2.imwrite(big, np.zeros((300, 400, 3), np.uint8))
    model = init_model(TINY_CONFIG, 'tiny.pth')
    with pytest.raises(ValueError, match=r'400 x 300 = 0.1 megapixels, above the limit of '
                                         r'0.1 \(max_pixels\): resize it'):
        segment(model, big, list(WORDS), max_pixels=100_000)
    with pytest.raises(ValueError, match='the image is 400 x 300'):
        segment(model, np.zeros((300, 400, 3), np.uint8), list(WORDS), max_pixels=100_000)
    assert segment(model, big, list(WORDS), max_pixels=120_000).label_map.shape == (300, 400)
