# The convergence benchmark with the recipe of the authors' released code (docs/recipes.md):
# their decode head, loss and inference rule (configs/_base_/models/coseg_authors-recipe.py)
# and the shape of their schedule (AdamW, weight decay 1e-4, gradient clipping 1.0, linear
# warm-up over the first tenth of the iterations, then cosine to 0) at the benchmark's
# learning rate and length. Targets stay the paper's area-ranked ones, as in their code.
# Otherwise coseg_prefix_convergence.py.
_base_ = ['./coseg_prefix_convergence.py', '../../_base_/models/coseg_authors-recipe.py']
model = dict(decode_head={{_base_.authors_decode_head}})
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=1e-4),
    clip_grad=dict(max_norm=1.0, norm_type=2))
param_scheduler = [
    # mmengine's LinearLR reaches end_factor at iteration end - 1.
    dict(type='LinearLR', start_factor=1e-3, end_factor=1.0, begin=0, end=201, by_epoch=False),
    dict(type='CosineAnnealingLR', eta_min=0.0, begin=0, end=2000, by_epoch=False),
]
