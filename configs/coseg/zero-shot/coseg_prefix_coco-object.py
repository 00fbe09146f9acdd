# CoSeg-Prefix trained on COCO-Stuff-164k, tested zero-shot on COCO-Object val2017, 80 thing
# classes (background ignored).
# The full test vocabulary, written as natural prompts, replaces the training one.
# Usage: python tools/test.py configs/coseg/zero-shot/coseg_prefix_coco-object.py COCO_STUFF_CHECKPOINT
_base_ = ['../../_base_/zero-shot/prefix.py', '../../_base_/datasets/coco_object.py']
model = dict(test_vocabulary='coco_object')
test_pipeline = [*_base_.test_head, dict(type='LoadAnnotations'), *_base_.test_tail]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
