# CoSeg-Prefix trained on COCO-Stuff-164k (171 classes) with the paper's recipe:
# 224x224 centre crop, Adam, cosine LR 1e-4 -> 1e-6, batch 32 (4 GPUs x 8), 100 epochs.
_base_ = [
    '../_base_/models/coseg_prefix_vit-b16.py',
    'mmseg::_base_/datasets/coco-stuff164k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_adam_cosine_100e.py',
]
crop_size = (224, 224)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    # Centre square crop resized to 224: shortest edge to 224, then the central 224 x 224.
    dict(type='ResizeShortestEdge', scale=224, max_size=100000),
    dict(type='CenterCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(896, 224), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# batch 32 = 8 per GPU x 4 GPUs; mmengine rescales the LR if another total is used.
auto_scale_lr = dict(enable=False, base_batch_size=32)
log_processor = dict(by_epoch=True)
# COCO-Stuff's 171 classes as natural prompts ("brick wall", not "wall-brick"), for training
# and testing; mmseg's inference APIs read the test vocabulary from here too.
model = dict(vocabulary='coco_stuff', test_vocabulary='coco_stuff')
