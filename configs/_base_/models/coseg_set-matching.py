# Set matching (docs/recipes.md): each slot learns the ground-truth class it is matched to
# (Hungarian, on mask BCE + Dice + naming costs over the valid pixels) instead of "the k-th
# largest class". A config applies it with
# _base_ = [..., '<path>/_base_/models/coseg_set-matching.py']
# model = dict(decode_head=dict(train_cfg={{_base_.set_matching_train_cfg}})).
set_matching_train_cfg = dict(
    assigner=dict(
        type='SetMatchingAssigner',
        match_costs=[
            # Mean BCE of the slot's mask logits against the class's mask.
            dict(type='MaskBCECost', weight=1.0),
            # mmseg's Dice cost on the mask probabilities, 1 - 2 sum(y p) / sum(y + p).
            dict(type='DiceCost', weight=1.0, pred_act=True, eps=0.0),
            # -log of the slot's probability of naming the class (decode_head.name_slots).
            dict(type='NamingCost', weight=1.0),
        ]))
