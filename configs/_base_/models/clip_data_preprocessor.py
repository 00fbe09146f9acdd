# CLIP's input normalisation (in 0-255 units, RGB) for every CLIP-based model here; inputs are
# padded to multiples of the 16-pixel patch.
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
