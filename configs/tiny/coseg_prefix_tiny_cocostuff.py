# A tiny CoSeg-Prefix for the demo and the tests: a tiny random CLIP saved in HuggingFace
# format and tiny data in COCO-Stuff-164k's layout, both made by tools/make_tiny_assets.py
# under data/tiny/ (paths relative to the working directory).
_base_ = ['../coseg/coseg_prefix_cocostuff.py']

tiny_clip_init_cfg = dict(
    type='CLIPPretrained', source='huggingface', checkpoint='data/tiny/clip')
data_root = 'data/tiny/coco_stuff164k'
crop_size = (64, 64)

model = dict(
    backbone=dict(
        image_size=64,
        embed_dims=64,
        num_layers=4,
        num_heads=4,
        output_dim=32,
        out_indices=(1, 2, 3),
        init_cfg=tiny_clip_init_cfg),
    text_encoder=dict(
        embed_dims=32, num_layers=2, num_heads=2, output_dim=32, init_cfg=tiny_clip_init_cfg),
    neck=dict(num_slots=6, in_channels=32, embed_dims=32, out_channels=32, depth=2),
    decode_head=dict(
        in_channels=64,
        channels=16,
        cond_channels=32,
        num_heads=2,
        ffn_channels=64,
        # A random tiny CLIP puts all class names close together (high cosine); contrasting
        # against the whole vocabulary, sharper and with more weight, lets the demo learn to
        # name its slots within a few hundred iterations; the slots are named at that
        # temperature too.
        loss_decode=dict(contrast='vocabulary', lang_weight=1.0, temperature=0.02),
        naming_temperature=0.02))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ResizeShortestEdge', scale=64, max_size=100000),
    dict(type='CenterCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 64), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=2e-3))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=300, val_interval=300)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-5, begin=0, end=300, by_epoch=False)
]
default_hooks = dict(
    logger=dict(interval=10, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=300, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
