"""VOC-20: mmseg's PascalVOCDataset with the 20-class metainfo of our dataset base."""
import os

import numpy as np
from mmengine.config import Config
from mmseg.registry import DATASETS
from PIL import Image

from tests.helpers import REPO


def test_background_is_ignored_and_classes_shift(tmp_path):
    root = tmp_path / 'VOC2012'
    for folder in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        (root / folder).mkdir(parents=True)
    Image.new('RGB', (3, 2)).save(root / 'JPEGImages' / '2007_000033.jpg')
    label = Image.fromarray(np.array([[0, 1, 15], [20, 255, 0]], dtype=np.uint8), mode='P')
    label.putpalette([0, 0, 0] * 256)
    label.save(root / 'SegmentationClass' / '2007_000033.png')  # VOC's palette PNG
    (root / 'ImageSets/Segmentation/val.txt').write_text('2007_000033\n')
    cfg = Config.fromfile(os.path.join(REPO, 'configs/_base_/datasets/pascal_voc12_20cls.py'))
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.update(data_root=str(root), pipeline=[
        dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')])
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset.metainfo['classes']) == 20
    gt = dataset[0]['data_samples'].gt_sem_seg.data[0]
    assert gt.tolist() == [[255, 0, 14], [19, 255, 255]]
