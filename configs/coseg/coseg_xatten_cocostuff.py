# CoSeg-Xatten on COCO-Stuff-164k: 4 encoder blocks over the CLIP tokens, 4 decoder blocks in
# which the 20 tokens self- and cross-attend (paper, section 3.4); otherwise the prefix recipe.
_base_ = ['./coseg_prefix_cocostuff.py']
model = dict(neck=dict(mode='xatten', encoder_depth=4, decoder_depth=4))
