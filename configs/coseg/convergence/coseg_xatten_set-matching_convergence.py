# The convergence benchmark with set matching and the cross-attention neck (docs/recipes.md).
_base_ = ['./coseg_xatten_convergence.py']
model = dict(decode_head=dict(target_assignment='hungarian'))
