# The convergence benchmark with set matching and the cross-attention neck (docs/recipes.md).
_base_ = ['./coseg_xatten_convergence.py']
model = dict(decode_head=dict(target_assignment='hungarian'))
# Matched slots keep learning past the paper-recipe runs' plateau: a longer schedule.
max_iters = 1200
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-5, begin=0, end=max_iters, by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
