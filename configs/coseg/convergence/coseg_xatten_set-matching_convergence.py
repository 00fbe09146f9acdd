# The convergence benchmark with set matching and the cross-attention neck (docs/recipes.md).
_base_ = ['./coseg_xatten_convergence.py', '../../_base_/models/coseg_set-matching.py']
model = dict(decode_head=dict(train_cfg={{_base_.set_matching_train_cfg}}))
