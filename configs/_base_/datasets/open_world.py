# The generated open world's scenes (tools/make_open_world_data.py --out data/open_world),
# read by OpenWorldDataset (coseg_tools/open_world/dataset.py) under a vocabulary: training on
# the `train` scenes (seen classes only) with the seen names; the test is the generalized
# zero-shot test: `val_mixed` scenes (seen and unseen classes) under all names, scored by
# SeenUnseenIoUMetric (mIoU over all, seen, unseen classes and hIoU). The cross-vocabulary test
# (`val_unseen`, unseen names) is configs/coseg/open_world/zero-shot/*_cross-vocab.py.
dataset_type = 'OpenWorldDataset'
data_root = 'data/open_world/scenes'
crop_size = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        vocabulary='seen',
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        vocabulary='all',
        data_prefix=dict(img_path='img_dir/val_mixed', seg_map_path='ann_dir/val_mixed'),
        pipeline=test_pipeline))
test_evaluator = dict(type='SeenUnseenIoUMetric', iou_metrics=['mIoU'])
# Training validates nothing (the runs are tested by tools/test.py afterwards).
val_dataloader = None
val_evaluator = None
