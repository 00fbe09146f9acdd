# No-training baseline on COCO-Stuff-164k val (171 classes): CLIP top-20 + CLIPSeg rd64-refined
# at 352 x 352.  Usage: python tools/test.py configs/coseg/coseg_no-train_cocostuff.py
_base_ = ['../_base_/zero-shot/no-train.py', '../_base_/datasets/coco_stuff164k.py']
# COCO-Stuff's 171 classes as natural prompts ("brick wall", not "wall-brick").
model = dict(test_vocabulary='coco_stuff')
test_pipeline = [*_base_.test_head, dict(type='LoadAnnotations'), *_base_.test_tail]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
train_dataloader = None
train_cfg = None
optim_wrapper = None
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
