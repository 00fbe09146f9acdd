# CoSeg-Prefix on mmseg's ResNetV1c-50 (ImageNet weights, trained): the stride-8/16/32 maps are
# resized to the stride-16 grid and projected for the CLIPSeg decoder (no CLS token), the
# stride-32 map into CLIP's space for the coexistence tokens; labels from the frozen CLIP text.
_base_ = ['./coseg_prefix_cocostuff.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True,
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')),
    neck=[
        dict(
            type='FeatureMapAdapter',
            in_channels=(256, 512, 1024, 2048),
            layer_indices=(1, 2, 3),
            token_index=3,
            grid_index=2,
            out_channels=768,
            token_channels=512),
        dict(type='CoexistenceNeck', mode='prefix', num_slots=20, in_channels=512, depth=8),
    ],
    decode_head=dict(use_cls_token=False))
