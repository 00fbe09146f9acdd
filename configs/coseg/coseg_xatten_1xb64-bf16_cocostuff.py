# CoSeg-Xatten for one large GPU: the one-GPU settings of coseg_prefix_1xb64-bf16_cocostuff.py
# (batch 64, bfloat16 autocast, fused Adam, the paper's LR scaled linearly to the batch) with
# the cross-attention neck of coseg_xatten_cocostuff.py.
_base_ = ['./coseg_prefix_1xb64-bf16_cocostuff.py']
model = dict(neck=dict(mode='xatten', encoder_depth=4, decoder_depth=4))
