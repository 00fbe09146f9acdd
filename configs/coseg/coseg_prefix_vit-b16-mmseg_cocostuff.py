# CoSeg-Prefix on mmseg's own VisionTransformer carrying CLIP ViT-B/16 weights, as converted by
# mmseg's tools/model_converters/clip2mmseg.py (the file SAN's configs use: CLIP's first 9
# blocks). The ViT is frozen; learned projections map its token maps into the decoder's and
# CLIP's spaces; label embeddings still come from the frozen CLIP text tower.
_base_ = ['./coseg_prefix_cocostuff.py']
clip_vit_mmseg = 'https://download.openmmlab.com/mmsegmentation/v0.5/san/clip_vit-base-patch16-224_3rdparty-d08f8887.pth'  # noqa
model = dict(
    backbone=dict(
        _delete_=True,
        type='VisionTransformer',
        img_size=(224, 224),
        patch_size=16,
        patch_pad=0,
        embed_dims=768,
        num_layers=9,
        num_heads=12,
        mlp_ratio=4,
        out_indices=(3, 6, 8),
        qkv_bias=True,
        with_cls_token=True,
        output_cls_token=True,
        patch_bias=False,
        pre_norm=True,
        norm_cfg=dict(type='LN', eps=1e-5),
        act_cfg=dict(type='QuickGELU'),
        interpolate_mode='bicubic',
        frozen_exclude=[],  # everything frozen, as CoSeg's CLIP
        init_cfg=dict(type='Pretrained_Part', checkpoint=clip_vit_mmseg)),
    neck=[
        dict(
            type='FeatureMapAdapter',
            in_channels=(768, 768, 768),
            layer_indices=(0, 1, 2),
            token_index=2,
            grid_index=2,
            out_channels=768,
            token_channels=512),
        dict(type='CoexistenceNeck', mode='prefix', num_slots=20, in_channels=512, depth=8),
    ])
