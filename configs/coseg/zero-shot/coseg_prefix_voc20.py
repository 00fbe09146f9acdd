# CoSeg-Prefix trained on COCO-Stuff-164k, tested zero-shot on Pascal VOC 2012 val, 20 classes
# (background ignored).
# The full test vocabulary, written as natural prompts, replaces the training one.
# Usage: python tools/test.py configs/coseg/zero-shot/coseg_prefix_voc20.py COCO_STUFF_CHECKPOINT
_base_ = [
    '../../_base_/models/coseg_prefix_vit-b16.py',
    '../../_base_/datasets/pascal_voc12_20cls.py',
    'mmseg::_base_/default_runtime.py',
]
model = dict(test_vocabulary='voc20')
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(896, 224), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
