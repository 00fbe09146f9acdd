# CoSeg-Xatten on the convergence benchmark: the prefix configuration with the
# cross-attention neck (docs/convergence.md).
_base_ = ['./coseg_prefix_convergence.py']
model = dict(neck=dict(mode='xatten', encoder_depth=1, decoder_depth=1))
