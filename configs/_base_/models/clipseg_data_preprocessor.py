# CLIPSeg's input normalisation (in 0-255 units, RGB): ImageNet's statistics, as
# CIDAS/clipseg-rd64-refined's preprocessor_config.json gives them to CLIPSegProcessor (the
# statistics CLIPSeg's decoder was trained with), not CLIP's. Sources and the 0-1 values:
# coseg_mmseg/models/utils/clip_inputs.py. Inputs are padded to multiples of the 16-pixel patch.
model = dict(
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size_divisor=16,
        test_cfg=dict(size_divisor=16)))
