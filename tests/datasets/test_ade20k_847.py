"""ADE20K-150 and ADE20K-847: vocabularies, the 16-bit dataset, the metric, the configs."""
import os

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.datasets import ADE20KDataset
from mmseg.evaluation import IoUMetric
from mmseg.registry import DATASETS

from coseg_mmseg.datasets import VOCABULARIES
from coseg_mmseg.datasets.ade20k_847 import ADE20K_847_FULL_IDS
from tests.helpers import REPO

LABEL = np.array([[65535, 0, 255], [256, 300, 846]], dtype=np.uint16)


def test_ade20k_150_names_follow_mmseg_order():
    ours = VOCABULARIES['ade20k_150']
    assert [n.replace(' ', '') for n in ours] == \
        [n.replace(' ', '') for n in ADE20KDataset.METAINFO['classes']]
    assert ours[44] == 'chest of drawers' and ours[7] == 'bed'  # mmseg's is 'bed '


def test_ade20k_847_names_and_full_ids_line_up():
    names = VOCABULARIES['ade20k_847']
    assert len(names) == len(ADE20K_847_FULL_IDS) == 847
    assert len(set(names)) == 847 and len(set(ADE20K_847_FULL_IDS)) == 847
    # Spot checks against the public table (trainId, full-release id, name).
    assert (ADE20K_847_FULL_IDS[0], names[0]) == (2978, 'wall')
    assert (ADE20K_847_FULL_IDS[1], names[1]) == (312, 'building, edifice')
    assert (ADE20K_847_FULL_IDS[846], names[846]) == (3148, names[846])
    assert max(ADE20K_847_FULL_IDS) < 26 * 256  # R // 10 <= 25 in a _seg.png


@pytest.fixture
def ade847(tmp_path):
    root = tmp_path / 'ADE20K_847'
    (root / 'images' / 'validation').mkdir(parents=True)
    (root / 'annotations' / 'validation').mkdir(parents=True)
    cv2.imwrite(str(root / 'images' / 'validation' / 'ADE_val_00000001.jpg'),
                np.full((2, 3, 3), 128, np.uint8))
    cv2.imwrite(str(root / 'annotations' / 'validation' / 'ADE_val_00000001.png'), LABEL)
    return root


def test_dataset_and_loader_keep_every_id(ade847):
    cfg = Config.fromfile(os.path.join(REPO, 'configs/_base_/datasets/ade20k_847.py'))
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.update(data_root=str(ade847), pipeline=[
        step for step in dataset_cfg.pipeline if step['type'] != 'Resize'])
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == 1 and dataset.metainfo['classes'] == VOCABULARIES['ade20k_847']
    assert dataset.ignore_index == 65535 and not dataset.reduce_zero_label
    gt = dataset[0]['data_samples'].gt_sem_seg.data[0]
    assert gt.tolist() == LABEL.tolist()


def test_iou_metric_with_ids_above_255_hand_computed():
    gt = torch.tensor([[65535, 0, 300, 300], [256, 846, 846, 5]])
    pred = torch.tensor([[7, 0, 300, 256], [256, 846, 65535, 846]])  # 65535: no label
    metric = IoUMetric(ignore_index=65535)
    metric.dataset_meta = dict(classes=VOCABULARIES['ade20k_847'])
    metric.process({}, [dict(pred_sem_seg=dict(data=pred[None]), gt_sem_seg=dict(data=gt[None]))])
    results = metric.compute_metrics(metric.results)
    # The ignored pixel (predicted 7) is dropped, so class 7 is absent from both: NaN, left out.
    # 0: 1/1. 5: 0/1 (predicted as 846). 256: 1/2 (union: its gt pixel and the 300 pixel
    # predicted 256). 300: 1/2. 846: 1/3 (gt 2, predicted 2, intersection 1).
    ious = [1, 0, 0.5, 0.5, 1 / 3]
    assert results['mIoU'] == pytest.approx(100 * sum(ious) / 5, abs=0.01)
    # Accuracy over the 7 labelled pixels: 0, 300, 256, 846 right.
    assert results['aAcc'] == pytest.approx(100 * 4 / 7, abs=0.01)


@pytest.mark.parametrize('model', ['prefix', 'xatten', 'no-train'])
def test_ade_configs(model):
    """A-847 ignores 65535 everywhere a label passes; A-150 uses mmseg's reduce_zero_label."""
    folder = os.path.join(REPO, 'configs', 'coseg', 'zero-shot')
    cfg = Config.fromfile(os.path.join(folder, f'coseg_{model}_ade847.py'))
    assert cfg.model.test_vocabulary == 'ade20k_847'
    assert cfg.model.data_preprocessor.seg_pad_val == 65535
    assert cfg.model.decode_head.ignore_index == 65535
    assert cfg.test_evaluator.ignore_index == 65535
    dataset = cfg.test_dataloader.dataset
    assert dataset.type == 'ADE20K847Dataset'
    assert dict(type='LoadUInt16Annotations', ignore_index=65535) in dataset.pipeline
    cfg = Config.fromfile(os.path.join(folder, f'coseg_{model}_ade150.py'))
    assert cfg.model.test_vocabulary == 'ade20k_150'
    assert cfg.test_dataloader.dataset.type == 'ADE20KDataset'
    assert dict(type='LoadAnnotations', reduce_zero_label=True) in \
        cfg.test_dataloader.dataset.pipeline
    assert cfg.test_evaluator.get('ignore_index', 255) == 255
