# CoSeg-Xatten on the open world with set matching; otherwise coseg_xatten_open-world.py.
_base_ = ['./coseg_xatten_open-world.py', '../../_base_/models/coseg_set-matching.py']
model = dict(decode_head=dict(train_cfg={{_base_.set_matching_train_cfg}}))
