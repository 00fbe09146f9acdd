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
    assert by_path.scores.shape == (len(WORDS), height, width)
    assert by_path.names == WORDS
    assert (by_path.label_map == by_array.label_map).all()
    scores = by_path.scores
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
    assert ((result.label_map == 0) == (result.scores[0] >= 0.3)).all()
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
                      cwd=str(in_workspace))
    assert result.returncode == 0, result.stdout[-3000:]
    drawn = cv2.imread('out/demo.png')
    assert drawn is not None and drawn.shape == cv2.imread(IMAGE).shape
    assert not (drawn == cv2.imread(IMAGE)).all()  # something was drawn
    legend = json.load(open('out/demo.json'))
    assert legend['legend'] == list(WORDS)
    assert set(legend['present']) <= set(WORDS)
    assert os.path.getsize('out/demo_slots.png') > 1000
    assert f'legend: {", ".join(WORDS)}' in result.stdout


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
