# The no-training baseline on tiny models and data (tools/make_tiny_assets.py): a tiny CLIP
# ranks, a tiny CLIPSeg (both random, HuggingFace format) draws; for tests and the demo.
_base_ = ['../coseg/coseg_no-train_cocostuff.py']

tiny_clip_init_cfg = dict(
    type='CLIPPretrained', source='huggingface', checkpoint='data/tiny/clip')
tiny_clipseg_init_cfg = dict(
    type='CLIPPretrained', source='huggingface', checkpoint='data/tiny/clipseg')
tiny_vit = dict(image_size=64, embed_dims=64, num_layers=4, num_heads=4, output_dim=32)
tiny_text = dict(embed_dims=32, num_layers=2, num_heads=2, output_dim=32)
data_root = 'data/tiny/coco_stuff164k'

model = dict(
    backbone=dict(tiny_vit, out_indices=(1, 2, 3), init_cfg=tiny_clipseg_init_cfg),
    rank_backbone=dict(tiny_vit, init_cfg=tiny_clip_init_cfg),
    rank_size=64,
    text_encoder=dict(tiny_text, init_cfg=tiny_clip_init_cfg),
    cond_text_encoder=dict(tiny_text, init_cfg=tiny_clipseg_init_cfg),
    decode_head=dict(
        in_channels=64,
        channels=16,
        cond_channels=32,
        num_heads=2,
        ffn_channels=64,
        init_cfg=tiny_clipseg_init_cfg),
    num_slots=5)
# The no-train test steps (configs/_base_/zero-shot/no-train.py) at the tiny models' sizes.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CLIPRankView', size=64),
    dict(type='Resize', scale=(96, 96), keep_ratio=False, backend='pillow'),
    dict(type='LoadAnnotations'),
    *_base_.test_tail,
]
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
