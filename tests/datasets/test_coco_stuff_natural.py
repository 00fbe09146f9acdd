"""COCOStuffNaturalDataset: mmseg's COCO-Stuff with natural names, the same label ids."""
import cv2
import numpy as np
from mmseg.datasets import COCOStuffDataset
from mmseg.registry import DATASETS

from coseg_mmseg.datasets.vocabularies import COCO_STUFF

LABELS = np.array([[0, 95, 170], [180, 255, 16]], dtype=np.uint8)  # person, counter, ...; 255 ignored


def test_natural_names_same_label_ids(tmp_path):
    (tmp_path / 'annotations' / 'val2017').mkdir(parents=True)
    (tmp_path / 'images' / 'val2017').mkdir(parents=True)
    cv2.imwrite(str(tmp_path / 'annotations/val2017/000000000139_labelTrainIds.png'), LABELS)
    cv2.imwrite(str(tmp_path / 'images/val2017/000000000139.jpg'), np.zeros((2, 3, 3), np.uint8))
    loaded = {}
    for dataset_type in ('COCOStuffDataset', 'COCOStuffNaturalDataset'):
        dataset = DATASETS.build(dict(
            type=dataset_type, data_root=str(tmp_path),
            data_prefix=dict(img_path='images/val2017', seg_map_path='annotations/val2017'),
            pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                      dict(type='PackSegInputs')]))
        assert dataset.label_map is None  # no remapping of ids
        loaded[dataset_type] = (dataset.metainfo,
                                dataset[0]['data_samples'].gt_sem_seg.data[0].tolist())
    natural, raw = loaded['COCOStuffNaturalDataset'], loaded['COCOStuffDataset']
    assert natural[1] == raw[1] == [[0, 95, 170], [180, 255, 16]]
    assert natural[0]['classes'] == COCO_STUFF and len(COCO_STUFF) == 171
    assert raw[0]['classes'] == COCOStuffDataset.METAINFO['classes']
    assert raw[0]['classes'][0] == natural[0]['classes'][0] == 'person'
    renamed = {r: n for r, n in zip(raw[0]['classes'], natural[0]['classes']) if r != n}
    assert len(renamed) == 31
    assert renamed['sky-other'] == 'sky' and renamed['wall-brick'] == 'brick wall'
    assert natural[0]['palette'] == raw[0]['palette']
