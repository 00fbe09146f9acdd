# CoSeg-Prefix sized for the generated open world (docs/open_vocabulary.md): the convergence
# benchmark's model (8 px patches, 8 slots, neck 64, decoder 32) on the world's tiny CLIP, which
# tools/make_open_world_data.py trains contrastively (both towers, all class names) and saves
# under data/open_world/clip (paths relative to the working directory). The sizes below are that
# CLIP's (coseg_tools/open_world/clip_pretraining.py: clip_config). No vocabulary is fixed: the
# datasets' classes are the vocabularies (CoSegVocabularyHook), seen names in training.
_base_ = ['./coseg_prefix_vit-b16.py']
# The open world's dataset is a tool of the benchmark, not of the model package.
custom_imports = dict(imports=['coseg_mmseg', 'coseg_tools.open_world.dataset'],
                      allow_failed_imports=False)

open_world_clip = dict(
    type='CLIPPretrained', source='huggingface', checkpoint='data/open_world/clip')
model = dict(
    backbone=dict(
        image_size=128,
        patch_size=8,
        embed_dims=64,
        num_layers=4,
        num_heads=4,
        output_dim=32,
        out_indices=(1, 2, 3),
        init_cfg=open_world_clip),
    text_encoder=dict(
        embed_dims=32, num_layers=2, num_heads=2, output_dim=32, init_cfg=open_world_clip),
    # The neck reads the activations the decoder reads, side by side (in_channels: their widths
    # summed), not the paper's final tokens in the joint space: why in docs/open_vocabulary.md.
    neck=dict(num_slots=8, in_key='layers', in_channels=192, embed_dims=64, out_channels=32,
              depth=2),
    decode_head=dict(
        in_channels=64,
        channels=32,
        cond_channels=32,
        num_heads=2,
        ffn_channels=64,
        patch_size=8,
        # As in the convergence benchmark, slots are named against the whole (seen) vocabulary
        # with more weight than the paper's ViT-B/16 setting, but at its temperature (the base's,
        # for the loss and the naming alike); why: docs/open_vocabulary.md.
        loss_decode=dict(contrast='vocabulary', lang_weight=1.0)))
