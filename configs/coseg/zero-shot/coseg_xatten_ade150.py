# CoSeg-Xatten trained on COCO-Stuff-164k, tested zero-shot on ADE20K-150 val
# (ADEChallengeData2016, 2000 images), 150 classes ("other", 0, ignored: mmseg's
# reduce_zero_label).
# The full test vocabulary, written as natural prompts, replaces the training one.
# Usage: python tools/test.py configs/coseg/zero-shot/coseg_xatten_ade150.py COCO_STUFF_CHECKPOINT
_base_ = ['../../_base_/zero-shot/xatten.py', 'mmseg::_base_/datasets/ade20k.py']
model = dict(test_vocabulary='ade20k_150')
test_pipeline = [
    *_base_.test_head, dict(type='LoadAnnotations', reduce_zero_label=True), *_base_.test_tail
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
