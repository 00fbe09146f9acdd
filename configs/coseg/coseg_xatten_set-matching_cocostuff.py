# CoSeg-Xatten, COCO-Stuff-164k: the recipe to train. The paper's run (coseg_xatten_cocostuff.py)
# with Hungarian set matching of slots to ground-truth classes (docs/recipes.md); why:
# docs/convergence.md, the recipe table. Only training changes: a checkpoint tests with the
# zero-shot configs of the xatten model (configs/coseg/zero-shot/coseg_xatten_*.py).
_base_ = ['./coseg_xatten_cocostuff.py', '../_base_/models/coseg_set-matching.py']
model = dict(decode_head=dict(train_cfg={{_base_.set_matching_train_cfg}}))
