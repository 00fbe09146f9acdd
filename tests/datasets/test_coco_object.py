"""COCO-Object: converter from COCO-Stuff trainIds, loading with background ignored."""
import cv2
import numpy as np
import pytest
from mmseg.registry import DATASETS

from coseg_mmseg.datasets.converters import convert_coco_object

STUFF = np.array([[0, 79, 80], [170, 255, 16]], dtype=np.uint8)  # things, stuff, unlabeled


def test_converter_and_dataset(tmp_path):
    ann = tmp_path / 'annotations' / 'val2017'
    img = tmp_path / 'images' / 'val2017'
    ann.mkdir(parents=True)
    img.mkdir(parents=True)
    cv2.imwrite(str(ann / '000000000139_labelTrainIds.png'), STUFF)
    cv2.imwrite(str(img / '000000000139.jpg'), np.zeros((2, 3, 3), np.uint8))
    assert convert_coco_object(str(ann), str(ann)) == 1
    out = cv2.imread(str(ann / '000000000139_objectTrainIds.png'), cv2.IMREAD_UNCHANGED)
    assert out.tolist() == [[1, 80, 0], [0, 0, 17]]
    dataset = DATASETS.build(dict(
        type='COCOObjectDataset', data_root=str(tmp_path),
        data_prefix=dict(img_path='images/val2017', seg_map_path='annotations/val2017'),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='PackSegInputs')]))
    assert len(dataset.metainfo['classes']) == 80 and dataset.metainfo['classes'][58] == \
        'potted plant'
    gt = dataset[0]['data_samples'].gt_sem_seg.data[0]
    assert gt.tolist() == [[0, 79, 255], [255, 255, 16]]


def test_converter_needs_label_maps(tmp_path):
    with pytest.raises(FileNotFoundError, match='coco_stuff164k.py'):
        convert_coco_object(str(tmp_path), str(tmp_path))
