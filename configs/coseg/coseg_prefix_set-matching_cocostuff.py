# CoSeg-Prefix, COCO-Stuff-164k: the recipe to train. The paper's run (coseg_prefix_cocostuff.py:
# total batch 32 = 4 GPUs x 8, 224x224 centre crops, Adam, cosine LR 1e-4 -> 1e-6, 100 epochs)
# with Hungarian set matching: each slot learns the ground-truth class it is matched to (on mask
# BCE + Dice + naming costs) instead of "the k-th largest class" (docs/recipes.md). Why:
# docs/convergence.md, the recipe table. Only training changes: a checkpoint tests with the
# zero-shot configs of the prefix model (configs/coseg/zero-shot/coseg_prefix_*.py).
_base_ = ['./coseg_prefix_cocostuff.py', '../_base_/models/coseg_set-matching.py']
model = dict(decode_head=dict(train_cfg={{_base_.set_matching_train_cfg}}))
