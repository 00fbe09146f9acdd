# CLIP's input normalisation (in 0-255 units, RGB) for CoSeg's CLIP-based models: OpenAI CLIP's
# statistics (clip/clip.py, and openai/clip-vit-base-patch16's preprocessor_config.json read by
# CLIPImageProcessor). Sources and the 0-1 values: coseg_mmseg/models/utils/clip_inputs.py. The
# no-training baseline feeds CLIPSeg, which expects ImageNet's: clipseg_data_preprocessor.py.
# Inputs are padded to multiples of the 16-pixel patch.
model = dict(
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size_divisor=16,
        test_cfg=dict(size_divisor=16)))
