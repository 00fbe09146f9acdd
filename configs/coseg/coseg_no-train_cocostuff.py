# No-training baseline on COCO-Stuff-164k val (171 classes): CLIP top-20 + CLIPSeg rd64-refined
# at 352 x 352.  Usage: python tools/test.py configs/coseg/coseg_no-train_cocostuff.py
_base_ = [
    '../_base_/models/coseg_no-train_clipseg-rd64.py',
    '../_base_/datasets/coco_stuff164k.py',
    'mmseg::_base_/default_runtime.py',
]
# COCO-Stuff's 171 classes as natural prompts ("brick wall", not "wall-brick").
model = dict(test_vocabulary='coco_stuff')
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # CLIP's own input for the ranking pass, from the decoded file (rank_size).
    dict(type='CLIPRankView', size=224),
    # Squashed to CLIPSeg's input size with PIL's (antialiased) bilinear resize, as
    # CLIPSegProcessor does; cv2's bilinear would alias when shrinking.
    dict(type='Resize', scale=(352, 352), keep_ratio=False, backend='pillow'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs', meta_keys={{_base_.rank_meta_keys}}),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
train_dataloader = None
train_cfg = None
optim_wrapper = None
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
