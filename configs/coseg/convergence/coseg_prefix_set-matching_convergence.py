# The convergence benchmark with set matching (docs/recipes.md): each slot learns the
# ground-truth class it is matched to (Hungarian, on mask BCE + Dice + naming costs) instead of
# "the k-th largest class"; otherwise coseg_prefix_convergence.py.
_base_ = ['./coseg_prefix_convergence.py', '../../_base_/models/coseg_set-matching.py']
model = dict(decode_head=dict(train_cfg={{_base_.set_matching_train_cfg}}))
