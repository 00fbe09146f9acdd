# The convergence benchmark with set matching (docs/recipes.md): each slot learns the
# ground-truth class it is matched to (Hungarian, on mask BCE + Dice + naming costs) instead of
# "the k-th largest class"; otherwise coseg_prefix_convergence.py.
_base_ = ['./coseg_prefix_convergence.py']
model = dict(decode_head=dict(target_assignment='hungarian'))
# Matched slots keep learning past the paper-recipe runs' plateau: a longer schedule.
max_iters = 1200
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-5, begin=0, end=max_iters, by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
