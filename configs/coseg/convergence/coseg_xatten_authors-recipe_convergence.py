# The authors' released recipe (coseg_prefix_authors-recipe_convergence.py) with the
# cross-attention neck of coseg_xatten_convergence.py, which the authors' code gives learned
# slot and token positions (docs/recipes.md).
_base_ = ['./coseg_prefix_authors-recipe_convergence.py']
model = dict(neck=dict(mode='xatten', encoder_depth=1, decoder_depth=1, positions='learned'))
