# The authors' released schedule (detectron2 WarmupCosineLR): AdamW lr 1e-4, weight decay 1e-4,
# gradient clipping by global L2 norm 1.0; linear warm-up over 4,000 iterations from factor
# 1e-3, multiplied into a cosine that runs from iteration 0 to 40,000 (to 0), as detectron2
# does; 40,000 iterations of batch 32.
optimizer = dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-4)
optim_wrapper = dict(
    type='OptimWrapper', optimizer=optimizer, clip_grad=dict(max_norm=1.0, norm_type=2))
param_scheduler = [
    # mmengine's LinearLR reaches end_factor at iteration end - 1: 4001 puts it at 4000.
    dict(type='LinearLR', start_factor=1e-3, end_factor=1.0, begin=0, end=4001, by_epoch=False),
    dict(type='CosineAnnealingLR', T_max=40000, eta_min=0.0, begin=0, end=40000,
         by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # A checkpoint is written whole or not at all (atomic_local), and the oldest is deleted
    # only after the new one and last_checkpoint are written (coseg_mmseg.engine).
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=4000,
        max_keep_ckpts=3,
        backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
