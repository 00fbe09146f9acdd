# The set-matching convergence benchmark (coseg_prefix_set-matching_convergence.py) on mmseg's
# own ResNetV1c-18, narrow (16 -> 128 channels) and trained from scratch with the rest of the
# model (no pretrained weights here), in place of the frozen tiny CLIP image tower. Its
# stride-8 map sets the 16 x 16 grid of the decoder's 8 px patches; the stride-8/16/32 maps
# feed the decoder, the stride-32 map the neck, through FeatureMapAdapter. The vocabulary
# embeddings still come from the frozen tiny CLIP text tower. Same lr and schedule as the
# frozen-CLIP row (docs/convergence.md: the mmseg backbones).
_base_ = ['./coseg_prefix_set-matching_convergence.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNetV1c',
        depth=18,
        stem_channels=16,
        base_channels=16,
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='BN', requires_grad=True)),
    neck=[
        dict(
            type='FeatureMapAdapter',
            in_channels=(16, 32, 64, 128),
            layer_indices=(1, 2, 3),
            token_index=3,
            grid_index=1,
            out_channels={{_base_.model.decode_head.in_channels}},
            token_channels={{_base_.model.neck.in_channels}}),
        {{_base_.model.neck}},
    ],
    decode_head=dict(use_cls_token=False))
