"""The Python API and tools/demo.py on the tiny model."""
import json
import os

import cv2
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from coseg_mmseg.apis import init_model, segment, slot_predictions
from coseg_mmseg.testing import make_tiny_assets
from tests.helpers import TINY_CONFIG, run_tool

WORDS = ('grass', 'sea', 'road', 'person')


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """Tiny assets under data/tiny and a checkpoint of a (randomly initialised) tiny CoSeg."""
    root = tmp_path_factory.mktemp('api')
    make_tiny_assets(str(root / 'data' / 'tiny'))
    cwd = os.getcwd()
    os.chdir(root)
    try:
        torch.manual_seed(0)
        model = MODELS.build(Config.fromfile(TINY_CONFIG).model)
        model.init_weights()
        torch.save(dict(state_dict=model.state_dict(), meta=dict()), 'tiny.pth')
    finally:
        os.chdir(cwd)
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
    labels = set(by_path.label_map.ravel().tolist())
    assert labels <= set(range(len(WORDS))) | {by_path.no_label}
    assert sum(by_path.present().values()) <= 1.0
    slots = slot_predictions(model, IMAGE, list(WORDS))
    assert len(slots) == model.neck.num_slots
    assert all(name in WORDS + ('unlabeled', ) for s in slots for name, _ in s['labels'])


def test_other_vocabulary_same_model(in_workspace):
    model = init_model(TINY_CONFIG, 'tiny.pth')
    assert segment(model, IMAGE, 'voc20').scores.shape[0] == 20
    assert segment(model, IMAGE, ['sky', 'tree']).names == ('sky', 'tree')


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


def test_demo_unknown_vocabulary_format(in_workspace):
    result = run_tool('demo.py', IMAGE, '--vocab', 'grass;sea', '--config', TINY_CONFIG,
                      '--checkpoint', 'tiny.pth', cwd=str(in_workspace))
    assert result.returncode != 0
    assert 'separate the words with commas' in result.stdout
