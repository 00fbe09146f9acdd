# CoSeg-Prefix for one large GPU (Ampere or newer): batch 64 on one GPU, bfloat16 autocast.
# Learning rate: the paper's 1e-4 for batch 32, scaled linearly by mmengine's auto_scale_lr to
# the batch that runs (GPUs x batch_size / 32: 2e-4 for this config on one GPU); why linear:
# docs/benchmarks/gpu.md. Otherwise the paper's recipe (224 centre crop, Adam, cosine, 100
# epochs). The dataloader's worker count is the one docs/benchmarks/data_pipeline.md derives
# for a 16-core machine; configs/coseg/*_1xb64-bf16_cocostuff-224.py reads the training set
# pre-cropped by tools/dataset_converters/preresize_coco_stuff.py instead (fewer workers).
_base_ = ['./coseg_prefix_cocostuff.py']
train_dataloader = dict(batch_size=64, num_workers=8, persistent_workers=True)
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='bfloat16',
    # bfloat16 has float32's exponent range: a static scale of 1 (the GradScaler still skips a
    # step whose gradients are not finite; with fused Adam it does so on the device).
    loss_scale=1.0,
    # One fused kernel for Adam's update instead of a loop over tensors (CUDA, and CPU).
    optimizer=dict(fused=True))
auto_scale_lr = dict(enable=True, base_batch_size=32)
