# The tiny CoSeg-Xatten (tests): the tiny prefix model with the cross-attention neck.
_base_ = ['./coseg_prefix_tiny_cocostuff.py']
model = dict(neck=dict(mode='xatten', encoder_depth=1, decoder_depth=1))
