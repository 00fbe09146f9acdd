# CoSeg-Xatten trained on COCO-Stuff-164k, tested zero-shot on Pascal Context val, 59 classes
# (background ignored).
# The full test vocabulary, written as natural prompts, replaces the training one.
# Usage: python tools/test.py configs/coseg/zero-shot/coseg_xatten_pc59.py COCO_STUFF_CHECKPOINT
_base_ = ['../../_base_/zero-shot/xatten.py', 'mmseg::_base_/datasets/pascal_context_59.py']
model = dict(test_vocabulary='pascal_context_59')
test_pipeline = [*_base_.test_head, dict(type='LoadAnnotations'), *_base_.test_tail]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
