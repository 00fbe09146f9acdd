# ADE20K-847: the full ADE20K release's validation images (2000) with its 847 classes; 16-bit
# maps, ignore index 65535. Prepare with tools/dataset_converters/ade20k_847.py (docs/datasets.md).
_base_ = ['./uint16_maps.py']
dataset_type = 'ADE20K847Dataset'
data_root = 'data/ade/ADE20K_847'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    _base_.test_annotations,
    dict(type='PackSegInputs'),
]
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'], ignore_index=65535)
test_evaluator = val_evaluator
