# CoSeg-Prefix with bfloat16 autocast on CUDA (Ampere and newer; no loss scaling needed).
_base_ = ['./coseg_prefix_cocostuff.py']
optim_wrapper = dict(type='AmpOptimWrapper', dtype='bfloat16', loss_scale=1.0)
