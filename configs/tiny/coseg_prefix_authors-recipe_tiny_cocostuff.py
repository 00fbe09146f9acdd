# The tiny CoSeg-Prefix (tests; data/tiny/ from tools/make_tiny_assets.py) with the decode head,
# loss and inference of the authors' released code, and their schedule's shape at tiny scale:
# AdamW (wd 1e-4), linear warm-up over the first tenth from factor 1e-3, cosine to the end,
# gradient clipping 1.0 (docs/recipes.md).
_base_ = ['./coseg_prefix_tiny_cocostuff.py', '../_base_/models/coseg_authors-recipe.py']
model = dict(decode_head={{_base_.authors_decode_head}})
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=1e-4),
    clip_grad=dict(max_norm=1.0, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, end_factor=1.0, begin=0, end=31, by_epoch=False),
    dict(type='CosineAnnealingLR', T_max=300, eta_min=0.0, begin=0, end=300, by_epoch=False),
]
