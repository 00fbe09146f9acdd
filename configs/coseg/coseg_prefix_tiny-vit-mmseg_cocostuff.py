# Tiny CoSeg-Prefix on a tiny mmseg VisionTransformer (random, frozen) for the tests.
_base_ = ['./coseg_prefix_tiny_cocostuff.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='VisionTransformer',
        img_size=(64, 64),
        patch_size=16,
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
        frozen_exclude=[]),
    neck=[
        dict(
            type='FeatureMapAdapter',
            in_channels=(64, 64, 64),
            layer_indices=(0, 1, 2),
            token_index=2,
            grid_index=2,
            out_channels=64,
            token_channels=32),
        dict(
            type='CoexistenceNeck',
            mode='prefix',
            num_slots=6,
            in_channels=32,
            embed_dims=32,
            out_channels=32,
            depth=2),
    ])
