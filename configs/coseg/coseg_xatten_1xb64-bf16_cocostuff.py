# CoSeg-Xatten for one large GPU: coseg_xatten_cocostuff.py with the one-GPU settings of
# coseg_prefix_1xb64-bf16_cocostuff.py (batch 64, bfloat16 autocast, fused Adam, the paper's LR
# scaled linearly to the batch; the comments there say why). The two differ only in the neck
# (tests/test_config_bases.py).
_base_ = ['./coseg_xatten_cocostuff.py']
train_dataloader = dict(batch_size=64, num_workers=8, persistent_workers=True)
optim_wrapper = dict(
    type='AmpOptimWrapper', dtype='bfloat16', loss_scale=1.0, optimizer=dict(fused=True))
auto_scale_lr = dict(enable=True, base_batch_size=32)
