# CoSeg-Xatten on the open world: coseg_prefix_open-world.py with the cross-attention neck
# (the convergence benchmark's depths).
_base_ = ['./coseg_prefix_open-world.py']
model = dict(neck=dict(mode='xatten', encoder_depth=1, decoder_depth=1))
