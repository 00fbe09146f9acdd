# CoSeg-Xatten trained on COCO-Stuff-164k, tested zero-shot on COCO-Object val2017, 80 thing
# classes (background ignored).
# The full test vocabulary, written as natural prompts, replaces the training one.
# Usage: python tools/test.py configs/coseg/zero-shot/coseg_xatten_coco-object.py COCO_STUFF_CHECKPOINT
_base_ = [
    '../../_base_/models/coseg_xatten_vit-b16.py',
    '../../_base_/datasets/coco_object.py',
    'mmseg::_base_/default_runtime.py',
]
model = dict(test_vocabulary='coco_object')
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(896, 224), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
