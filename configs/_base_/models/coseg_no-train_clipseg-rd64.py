# The no-training baseline (paper, sections 3.3 and 3.6): CLIP ViT-B/16 ranks the vocabulary,
# pretrained CLIPSeg rd64-refined draws the masks of the top-k labels. Run it with
# `tools/test.py CONFIG` (no checkpoint: the weights below are loaded).
# Inputs: the data preprocessor prepares CLIPSeg's (ImageNet's statistics; the test pipelines
# squash images to 352 x 352 with PIL's bilinear resize, as CLIPSegProcessor does); the test
# pipelines' CLIPRankView makes the ranking CLIP's input from the decoded file as
# CLIPImageProcessor does (shortest edge to rank_size, bicubic, centre crop, CLIP's
# statistics), and PackSegInputs hands it to the model with these meta keys (mmseg's and it).
_base_ = ['./clipseg_data_preprocessor.py']
custom_imports = dict(imports=['coseg_mmseg'], allow_failed_imports=False)
rank_meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                  'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
                  'clip_rank_input')

clip_init_cfg = dict(
    type='CLIPPretrained', source='huggingface', checkpoint='openai/clip-vit-base-patch16')
clipseg_init_cfg = dict(
    type='CLIPPretrained', source='huggingface', checkpoint='CIDAS/clipseg-rd64-refined')
vit_b16 = dict(
    type='FrozenCLIPBackbone',
    image_size=224,
    patch_size=16,
    embed_dims=768,
    num_layers=12,
    num_heads=12,
    output_dim=512,
    act='quick_gelu')
text_b16 = dict(
    type='FrozenCLIPTextEncoder',
    embed_dims=512,
    num_layers=12,
    num_heads=8,
    output_dim=512,
    act='quick_gelu')

model = dict(
    type='CoSegNoTrain',
    # CLIPSeg's own CLIP, run at 352 x 352 with interpolated positions.
    backbone=dict(vit_b16, out_indices=(3, 6, 9), init_cfg=clipseg_init_cfg),
    # The paper's ranking: a separate CLIP pass at 224. Set rank_backbone=None to rank with the
    # pooled embedding of the 352 pass instead (one image pass in all; an approximation: CLIP
    # then sees the squash with ImageNet's statistics).
    rank_backbone=dict(vit_b16, out_indices=(), init_cfg=clip_init_cfg),
    rank_size=224,
    text_encoder=dict(text_b16, templates=('a photo of a {}.', ), init_cfg=clip_init_cfg),
    cond_text_encoder=dict(text_b16, init_cfg=clipseg_init_cfg),
    cond_templates=('{}', ),
    decode_head=dict(
        type='FiLMCLIPSegHead',
        in_channels=768,
        channels=64,
        cond_channels=512,
        num_layers=3,
        num_heads=4,
        ffn_channels=2048,
        patch_size=16,
        complex_upsample=True,
        mask_threshold=0.3,
        init_cfg=clipseg_init_cfg),
    num_slots=20,
    test_vocabulary=None,
    test_cfg=dict(mode='whole'))

custom_hooks = [dict(type='CoSegVocabularyHook')]
# Nothing is trainable, so DistributedDataParallel refuses the model in a distributed test
# (--launcher pytorch): mmengine's separate wrapper only moves such submodules to the device.
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel', broadcast_buffers=False)
