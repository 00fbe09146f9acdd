# The "no transfer" floor of the open world: mmseg's own FCNHead trained closed-set on the same
# frozen world CLIP (every extracted block and the final tokens, put back on the 16 x 16 patch
# grid by CLIPTokenMaps and concatenated). Its classes are all K names of the world, but the
# `train` scenes label seen classes only, so it can only learn to name those. tools/test.py on
# this config: the generalized test (val_mixed, SeenUnseenIoUMetric); the cross-vocabulary one:
# zero-shot/fcn_clip-frozen_closed-set_open-world_cross-vocab.py.
_base_ = [
    '../../_base_/models/clip_data_preprocessor.py',
    '../../_base_/datasets/open_world.py',
    'mmseg::_base_/default_runtime.py',
    '../../_base_/schedules/schedule_adam_cosine_1k.py',
]
custom_imports = dict(imports=['coseg_mmseg', 'coseg_tools.open_world.dataset'],
                      allow_failed_imports=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))

open_world_clip = dict(
    type='CLIPPretrained', source='huggingface', checkpoint='data/open_world/clip')
# The world's classes (coseg_tools/open_world/world.py: 18 stuff + 30 things), whatever split.
num_world_classes = 48
model = dict(
    type='EncoderDecoder',
    backbone=dict(
        type='FrozenCLIPBackbone',
        image_size=128,
        patch_size=8,
        embed_dims=64,
        num_layers=4,
        num_heads=4,
        output_dim=32,
        act='quick_gelu',
        out_indices=(1, 2, 3),
        init_cfg=open_world_clip),
    neck=dict(type='CLIPTokenMaps'),
    decode_head=dict(
        type='FCNHead',
        in_channels=[64, 64, 64, 32],
        in_index=[0, 1, 2, 3],
        input_transform='resize_concat',
        channels=64,
        num_convs=2,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=num_world_classes,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# All names (the head's K classes, in global id order); the labels hold seen classes only.
train_dataloader = dict(dataset=dict(vocabulary='all'))
