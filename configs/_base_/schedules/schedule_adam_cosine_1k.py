# The generated open world's schedule (configs/coseg/open_world/): the convergence benchmark's
# (schedule_adam_cosine_2k.py: Adam, learning rate 2e-3, cosine decay to 1e-5) over 1,000
# iterations, so that `make demo` and the open-world table fit the 2-core machine.
_base_ = ['./schedule_adam_cosine_2k.py']
max_iters = 1000
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-5, begin=0, end=max_iters, by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
