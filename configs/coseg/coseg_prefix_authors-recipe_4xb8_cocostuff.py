# CoSeg-Prefix on COCO-Stuff-164k (171 classes) with the recipe of the authors' released code
# (docs/recipes.md): BCE + 0.18 Dice + 0.12 cross-entropy over the whole vocabulary (tau 0.08),
# FiLM before every decoder block, their inference rule; AdamW (lr 1e-4, wd 1e-4), 4k-iteration
# linear warm-up, cosine to 40k iterations, gradient clipping 1.0; total batch 32 (4 GPUs x 8);
# 224 x 224 random crops. The released code's prefix model is not in its repository (only the
# cross-attention one is): the neck here is the paper's prefix neck.
_base_ = [
    '../_base_/models/coseg_prefix_vit-b16.py',
    '../_base_/models/coseg_authors-recipe.py',
    '../_base_/datasets/coco_stuff164k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_adamw_warmup-cosine_40k.py',
]
crop_size = (224, 224)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    # Shortest edge to 224, then a random 224 x 224 crop (detectron2's absolute crop).
    dict(type='ResizeShortestEdge', scale=224, max_size=100000),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
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
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# batch 32 = 8 per GPU x 4 GPUs; mmengine rescales the LR if another total is used.
auto_scale_lr = dict(enable=False, base_batch_size=32)
model = dict(
    vocabulary='coco_stuff',
    test_vocabulary='coco_stuff',
    decode_head={{_base_.authors_decode_head}})
