# CoSeg-Xatten, COCO-Stuff-164k, the paper's recipe: total batch 32 = 4 GPUs x 8 images each.
# The same run as coseg_xatten_4xb8_cocostuff.py; on 1, 2 or 8 GPUs take the config named after
# them (coseg_xatten_1xb32 / 2xb16 / 8xb4_cocostuff.py), for another total add --auto-scale-lr.
# 4 encoder blocks over the CLIP tokens, 4 decoder blocks in which the 20 tokens self- and
# cross-attend (paper, section 3.4); otherwise the prefix recipe.
_base_ = ['./coseg_prefix_cocostuff.py']
model = dict(neck=dict(mode='xatten', encoder_depth=4, decoder_depth=4))
