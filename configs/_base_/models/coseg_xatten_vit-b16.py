# CoSeg-Xatten on a frozen CLIP ViT-B/16: 4 encoder + 4 decoder blocks (paper, section 3.7).
_base_ = ['./coseg_prefix_vit-b16.py']
model = dict(neck=dict(mode='xatten', encoder_depth=4, decoder_depth=4))
