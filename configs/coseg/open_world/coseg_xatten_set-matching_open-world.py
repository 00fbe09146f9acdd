# CoSeg-Xatten on the open world with set matching; otherwise coseg_xatten_open-world.py.
_base_ = ['./coseg_xatten_open-world.py']
model = dict(decode_head=dict(target_assignment='hungarian'))
