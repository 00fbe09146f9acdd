"""Pascal Context 459: .mat -> 16-bit PNG converter, uint16 loading, metric with ignore 65535."""

import cv2
import numpy as np
import pytest
import torch
from mmseg.evaluation import IoUMetric
from mmseg.registry import DATASETS
from scipy.io import savemat

from coseg_mmseg.datasets.converters import convert_pascal_context_459

# Official LabelMap ids are 1..459 (0: unlabeled); ids above 256 are the reason for 16 bits.
LABEL_MAPS = {
    '2008_000001': np.array([[0, 1, 256], [257, 300, 459]], dtype=np.uint16),
    '2008_000002': np.array([[459, 459, 1], [0, 0, 300]], dtype=np.uint16),
}


@pytest.fixture
def voc2010(tmp_path):
    """A VOC2010 tree with official-layout .mat files, a val list and images."""
    root = tmp_path / 'VOCdevkit' / 'VOC2010'
    (root / 'ImageSets' / 'SegmentationContext').mkdir(parents=True)
    (root / 'JPEGImages').mkdir()
    mats = tmp_path / 'trainval'
    mats.mkdir()
    for image_id, label in LABEL_MAPS.items():
        savemat(mats / f'{image_id}.mat', {'LabelMap': label})
        cv2.imwrite(str(root / 'JPEGImages' / f'{image_id}.jpg'),
                    np.full((2, 3, 3), 128, np.uint8))
    (root / 'ImageSets' / 'SegmentationContext' / 'val.txt').write_text('\n'.join(LABEL_MAPS))
    convert_pascal_context_459(str(mats), str(root / 'ImageSets/SegmentationContext/val.txt'),
                               str(root / 'SegmentationClassContext459'))
    return root


def test_converter_writes_uint16_ids_minus_one(voc2010):
    png = cv2.imread(str(voc2010 / 'SegmentationClassContext459' / '2008_000001.png'),
                     cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint16
    assert png.tolist() == [[65535, 0, 255], [256, 299, 458]]


def test_converter_names_a_missing_mat(tmp_path):
    (tmp_path / 'val.txt').write_text('2008_000009\n')
    with pytest.raises(FileNotFoundError, match='2008_000009.mat'):
        convert_pascal_context_459(str(tmp_path), str(tmp_path / 'val.txt'), str(tmp_path / 'o'))


def test_dataset_and_loader_keep_every_id(voc2010):
    dataset = DATASETS.build(dict(
        type='PascalContext459Dataset', data_root=str(voc2010),
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassContext459'),
        ann_file='ImageSets/SegmentationContext/val.txt',
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadUInt16Annotations', ignore_index=65535),
                  dict(type='PackSegInputs')]))
    assert len(dataset) == 2 and len(dataset.metainfo['classes']) == 459
    assert dataset.ignore_index == 65535
    gt = dataset[0]['data_samples'].gt_sem_seg.data[0]
    assert gt.tolist() == [[65535, 0, 255], [256, 299, 458]]


def test_stock_loader_would_lose_ids(voc2010):
    """Why the 16-bit loader exists: mmseg's LoadAnnotations folds 256 onto 0 and 255."""
    from mmseg.datasets.transforms import LoadAnnotations
    path = str(voc2010 / 'SegmentationClassContext459' / '2008_000001.png')
    seg = LoadAnnotations()(dict(seg_map_path=path, reduce_zero_label=False,
                                 seg_fields=[]))['gt_seg_map']
    assert seg.tolist() != [[65535, 0, 255], [256, 299, 458]]


def test_iou_metric_with_ignore_65535_hand_computed():
    gt = torch.tensor([[65535, 0, 255], [256, 299, 458]])
    pred = torch.tensor([[3, 0, 255], [299, 299, 65535]])  # 65535: "no label" prediction
    metric = IoUMetric(ignore_index=65535)
    metric.dataset_meta = dict(classes=[f'c{i}' for i in range(459)])
    metric.process({}, [dict(pred_sem_seg=dict(data=pred[None]),
                             gt_sem_seg=dict(data=gt[None]))])
    results = metric.compute_metrics(metric.results)
    # class 0: 1/1; 255: 1/1; 256: 0/1 (predicted 299); 299: 1/2; 458: 0/1 (no label).
    assert results['mIoU'] == pytest.approx(100 * (1 + 1 + 0 + 0.5 + 0) / 5, abs=0.01)
