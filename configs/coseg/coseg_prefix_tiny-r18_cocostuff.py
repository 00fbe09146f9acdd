# Tiny CoSeg-Prefix on a narrow mmseg ResNetV1c-18 (random, trained) for the tests.
_base_ = ['./coseg_prefix_tiny_cocostuff.py']
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
    ],
    decode_head=dict(use_cls_token=False))
