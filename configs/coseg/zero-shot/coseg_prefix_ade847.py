# CoSeg-Prefix trained on COCO-Stuff-164k, tested zero-shot on ADE20K-847 val
# (the full ADE20K release, 2000 images), all 847 classes (16-bit maps, ignore 65535).
# The full test vocabulary, written as natural prompts, replaces the training one.
# Usage: python tools/test.py configs/coseg/zero-shot/coseg_prefix_ade847.py COCO_STUFF_CHECKPOINT
_base_ = [
    '../../_base_/models/coseg_prefix_vit-b16.py',
    '../../_base_/datasets/ade20k_847.py',
    'mmseg::_base_/default_runtime.py',
]
model = dict(
    test_vocabulary='ade20k_847',
    data_preprocessor=dict(seg_pad_val=65535),
    decode_head=dict(ignore_index=65535))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(896, 224), keep_ratio=True),
    dict(type='LoadUInt16Annotations', ignore_index=65535),
    dict(type='PackSegInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
