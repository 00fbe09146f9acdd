"""mmseg's own inference entry points on the plugin's configs (not the plugin's wrappers)."""
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmseg.apis import MMSegInferencer, inference_model, init_model

import mmseg
from coseg_mmseg.apis import init_model as coseg_init_model
from coseg_mmseg.apis import segment
from tests.helpers import REPO, TINY_CONFIG, save_tiny_checkpoint

NO_TRAIN_TINY = os.path.join(REPO, 'configs/tiny/coseg_no-train_tiny_cocostuff.py')
IMAGE = 'data/tiny/coco_stuff164k/images/val2017/000000000002.jpg'
CLASSES = ('grass', 'sea', 'road', 'person')


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    """Tiny assets and a tiny CoSeg checkpoint whose meta names its dataset's classes."""
    root = tmp_path_factory.mktemp('mmseg_apis')
    meta = dict(dataset_meta=dict(classes=CLASSES, palette=[[1, 2, 3]] * 4))
    save_tiny_checkpoint(str(root), 'tiny.pth', meta=meta)
    return root


@pytest.fixture
def in_workspace(workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    return workspace


def labels_from_scores(scores: np.ndarray, threshold: float = 0.3) -> np.ndarray:
    """(K, H, W) scores -> (H, W) labels: the best class where it reaches the threshold."""
    return np.where(scores.max(axis=0) >= threshold, scores.argmax(axis=0), 255)


def test_init_model_and_inference_model(in_workspace):
    """The config's test vocabulary (COCO-Stuff's 171 names) is used; each pixel gets its
    best-scoring class where that reaches the threshold, "no label" (255) elsewhere."""
    model = init_model(TINY_CONFIG, 'tiny.pth', device='cpu')
    result = inference_model(model, IMAGE)
    assert result.seg_logits.data.shape[0] == 171
    assert model.dataset_meta['classes'][159] == 'brick wall'
    labels = result.pred_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(labels, labels_from_scores(result.seg_logits.data.numpy()))
    assert len(np.unique(labels)) > 1


def test_checkpoint_classes_are_the_default_test_vocabulary(in_workspace):
    """Without a vocabulary in the config, the checkpoint's dataset classes name the slots."""
    model = init_model(TINY_CONFIG, 'tiny.pth', device='cpu',
                       cfg_options={'model.test_vocabulary': None})
    result = inference_model(model, IMAGE)
    assert model.vocabulary_names('test') == CLASSES
    assert result.seg_logits.data.shape[0] == len(CLASSES)
    ours = segment(coseg_init_model(TINY_CONFIG, 'tiny.pth'), IMAGE, CLASSES)
    np.testing.assert_array_equal(result.pred_sem_seg.data[0].numpy(), ours.label_map)


def test_mmseg_inferencer_with_another_vocabulary(in_workspace, tmp_path):
    inferencer = MMSegInferencer(model=TINY_CONFIG, weights='tiny.pth', device='cpu')
    out = inferencer(IMAGE, return_datasamples=True)
    assert out.seg_logits.data.shape[0] == 171
    inferencer.model.set_vocabulary(['dog'])  # the way to pass another vocabulary
    dog = inferencer(IMAGE, return_datasamples=True)
    vis = inferencer(IMAGE, return_vis=True, out_dir=str(tmp_path))
    assert vis['predictions'].shape == cv2.imread(IMAGE).shape[:2]
    np.testing.assert_array_equal(vis['predictions'],
                                  labels_from_scores(dog.seg_logits.data.numpy()))
    assert vis['visualization'].shape == cv2.imread(IMAGE).shape


def test_no_training_baseline_without_checkpoint(in_workspace):
    """init_model/MMSegInferencer give no checkpoint and call no init_weights: the baseline
    still runs with its pretrained (here: tiny) CLIP and CLIPSeg, as the plugin's API does."""
    model = init_model(NO_TRAIN_TINY, None, device='cpu')
    result = inference_model(model, IMAGE)
    ours = segment(coseg_init_model(NO_TRAIN_TINY), IMAGE, 'coco_stuff')
    np.testing.assert_array_equal(result.pred_sem_seg.data[0].numpy(), ours.label_map)
    inferencer = MMSegInferencer(model=NO_TRAIN_TINY, device='cpu')
    out = inferencer(IMAGE, return_datasamples=True)
    np.testing.assert_array_equal(out.pred_sem_seg.data[0].numpy(), ours.label_map)


@pytest.mark.slow
def test_mmseg_benchmark_tool(in_workspace):
    """mmseg's tools/analysis_tools/benchmark.py (shipped in the wheel) runs its 200 images on
    the baseline (no checkpoint: its weights come from init_cfg)."""
    (in_workspace / 'bench.py').write_text(
        f"_base_ = [{NO_TRAIN_TINY!r}]\n"
        "model = dict(test_vocabulary='grass, sea, person')\n"
        "pipeline = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]\n"
        "test_dataloader = dict(dataset=dict(\n"
        "    _delete_=True, type='RepeatDataset', times=26, dataset=dict(\n"
        "        type='COCOStuffDataset', data_root='data/tiny/coco_stuff164k',\n"
        "        data_prefix=dict(img_path='images/val2017', seg_map_path='annotations/val2017'),\n"
        "        pipeline=pipeline)))\n")
    tool = os.path.join(os.path.dirname(mmseg.__file__), '.mim', 'tools', 'analysis_tools',
                        'benchmark.py')
    run = subprocess.run([sys.executable, tool, 'bench.py', 'none', '--work-dir', 'bench'],
                         cwd=in_workspace, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    assert 'Overall fps' in run.stdout
