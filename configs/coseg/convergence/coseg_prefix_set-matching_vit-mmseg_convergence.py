# The set-matching convergence benchmark (coseg_prefix_set-matching_convergence.py) on mmseg's
# own VisionTransformer at the tiny CLIP image tower's sizes (128 px, 8 px patches, 64 wide,
# 4 layers, 4 heads, CLS token), random and trained with the rest of the model (not frozen:
# frozen_exclude=['all']), in place of the frozen tiny CLIP tower. Layers 1-3 feed the decoder
# (with their CLS tokens), layer 3 the neck, through FeatureMapAdapter. The vocabulary
# embeddings still come from the frozen tiny CLIP text tower. Same lr and schedule as the
# frozen-CLIP row (docs/convergence.md: the mmseg backbones).
_base_ = ['./coseg_prefix_set-matching_convergence.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='VisionTransformer',
        img_size=(128, 128),
        patch_size=8,
        patch_pad=0,
        embed_dims=64,
        num_layers=4,
        num_heads=4,
        out_indices=(1, 2, 3),
        with_cls_token=True,
        output_cls_token=True,
        pre_norm=True,
        norm_cfg=dict(type='LN', eps=1e-5),
        act_cfg=dict(type='QuickGELU'),
        frozen_exclude=['all']),
    neck=[
        dict(
            type='FeatureMapAdapter',
            in_channels=(64, 64, 64),
            layer_indices=(0, 1, 2),
            token_index=2,
            grid_index=2,
            out_channels={{_base_.model.decode_head.in_channels}},
            token_channels={{_base_.model.neck.in_channels}}),
        {{_base_.model.neck}},
    ])
