# CoSeg-Xatten trained on COCO-Stuff-164k, tested zero-shot on Pascal Context val, all 459
# classes (16-bit maps, ignore 65535).
# The full test vocabulary, written as natural prompts, replaces the training one.
# Usage: python tools/test.py configs/coseg/zero-shot/coseg_xatten_pc459.py COCO_STUFF_CHECKPOINT
_base_ = ['../../_base_/zero-shot/xatten.py', '../../_base_/datasets/pascal_context_459.py']
model = dict(_base_.uint16_ignore, test_vocabulary='pascal_context_459')
test_pipeline = [*_base_.test_head, _base_.test_annotations, *_base_.test_tail]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
