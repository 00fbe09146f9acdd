# Set matching with the authors' Dice term in the mask loss (0.18, docs/recipes.md) and the
# cross-attention neck; otherwise coseg_xatten_set-matching_convergence.py.
_base_ = ['./coseg_xatten_set-matching_convergence.py']
model = dict(decode_head=dict(loss_decode=dict(dice_weight=0.18)))
