# CoSeg-Xatten on COCO-Stuff-164k with the recipe of the authors' released code (4 encoder +
# 4 decoder blocks; learned slot and token positions); total batch 32 (4 GPUs x 8). What of
# their neck is not reproduced (no biases, trainable post-layernorm, a new visual projection):
# docs/recipes.md.
_base_ = ['./coseg_prefix_authors-recipe_4xb8_cocostuff.py']
model = dict(neck=dict(mode='xatten', encoder_depth=4, decoder_depth=4, positions='learned'))
