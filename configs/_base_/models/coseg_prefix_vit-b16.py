# CoSeg-Prefix on a frozen CLIP ViT-B/16 (paper, section 3.7).
_base_ = ['./clip_data_preprocessor.py']
custom_imports = dict(imports=['coseg_mmseg'], allow_failed_imports=False)

# CLIP ViT-B/16 from the HuggingFace hub (or a local save_pretrained directory). For open_clip:
# dict(type='CLIPPretrained', source='open_clip', model_name='ViT-B-16', checkpoint='openai').
clip_init_cfg = dict(
    type='CLIPPretrained', source='huggingface', checkpoint='openai/clip-vit-base-patch16')

model = dict(
    type='CoSeg',
    backbone=dict(
        type='FrozenCLIPBackbone',
        image_size=224,
        patch_size=16,
        embed_dims=768,
        num_layers=12,
        num_heads=12,
        output_dim=512,
        act='quick_gelu',
        out_indices=(3, 6, 9),
        init_cfg=clip_init_cfg),
    text_encoder=dict(
        type='FrozenCLIPTextEncoder',
        embed_dims=512,
        num_layers=12,
        num_heads=8,
        output_dim=512,
        act='quick_gelu',
        templates=('a photo of a {}.', ),
        init_cfg=clip_init_cfg),
    neck=dict(
        type='CoexistenceNeck',
        mode='prefix',
        num_slots=20,
        in_channels=512,
        embed_dims=512,
        out_channels=512,
        num_heads=4,
        depth=8),
    decode_head=dict(
        type='FiLMCLIPSegHead',
        in_channels=768,
        channels=128,
        cond_channels=512,
        num_layers=3,
        num_heads=4,
        ffn_channels=2048,
        patch_size=16,
        complex_upsample=True,
        mask_threshold=0.3,
        # Slots are named by a softmax of cosines at the paper's tau.
        naming_temperature=0.08,
        loss_decode=dict(type='CoSegLoss', lang_weight=0.08, temperature=0.08),
        # The paper's targets: slot k learns the image's k-th largest class.
        train_cfg=dict(assigner=dict(type='AreaRankedAssigner'))),
    # None: the vocabularies come from the datasets (CoSegVocabularyHook below).
    vocabulary=None,
    test_vocabulary=None,
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

custom_hooks = [dict(type='CoSegVocabularyHook')]
