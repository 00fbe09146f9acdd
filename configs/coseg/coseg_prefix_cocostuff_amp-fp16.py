# CoSeg-Prefix with mixed precision (float16 autocast, dynamic loss scaling) on CUDA.
_base_ = ['./coseg_prefix_cocostuff.py']
optim_wrapper = dict(type='AmpOptimWrapper', dtype='float16', loss_scale='dynamic')
