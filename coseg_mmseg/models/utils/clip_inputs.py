"""What CLIP and CLIPSeg expect as input, and CLIP's input derived from CLIPSeg's (an
approximation: the configs make CLIP's input from the file, ``CLIPRankView``).

The two pretrained models of the no-training baseline were trained on differently prepared
images:

- CLIP (``openai/clip-vit-base-patch16``): RGB, shortest edge resized to 224 with bicubic
  resampling (antialiased, as PIL resizes), centre crop 224 x 224, CLIP's own statistics.
  Sources: OpenAI CLIP's ``clip/clip.py`` (``_transform``: ``Resize(n_px, BICUBIC)``,
  ``CenterCrop(n_px)``, ``Normalize``), the checkpoint's ``preprocessor_config.json`` read by
  transformers' ``CLIPImageProcessor`` (``OPENAI_CLIP_MEAN`` / ``OPENAI_CLIP_STD``).
- CLIPSeg (``CIDAS/clipseg-rd64-refined``): RGB, resized (squashed) to 352 x 352, bilinear,
  ImageNet's statistics. Sources: the checkpoint's ``preprocessor_config.json`` read by
  ``CLIPSegProcessor`` (``image_mean`` / ``image_std``, ``resample`` 2 = bilinear), the
  statistics CLIPSeg's decoder was trained with in timojl/clipseg's data loaders;
  transformers' ``IMAGENET_DEFAULT_MEAN`` / ``IMAGENET_DEFAULT_STD``.

The statistics here are in 0-1 units (RGB); mmseg's ``SegDataPreProcessor`` takes them times
255. The configs' data preprocessors (``configs/_base_/models/*_data_preprocessor.py``) state the
same numbers; a test checks that they agree.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ...datasets.transforms.clip_rank_view import CLIP_MEAN, CLIP_STD, clip_resize_shape

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def clip_rank_inputs(inputs: Tensor, *, input_mean: Optional[Tensor], input_std: Optional[Tensor],
                     size: int, img_shapes: Optional[Sequence[Sequence[int]]] = None,
                     ori_shapes: Optional[Sequence[Sequence[int]]] = None) -> Tensor:
    """CLIP's input, as ``CLIPImageProcessor`` makes it, derived from a normalised batch.

    Each image's input is the original image file resized (squashed or not) to ``img_shape``,
    normalised with ``input_mean`` / ``input_std`` and padded. This undoes the normalisation
    (back to 0-255 RGB pixels), resizes the ``img_shape`` region to the size CLIP's
    preprocessing gives the original (shortest edge ``size``, :func:`clip_resize_shape`) with
    antialiased bicubic resampling (as PIL resizes), keeps the central ``size`` x ``size``
    square, clamps to the pixel range and normalises with CLIP's statistics. The original's
    pixels are resampled twice (to ``img_shape``, then here), so the result differs slightly
    from the processor's run on the file.

    Args:
        inputs: (B, 3, H, W) RGB images, ``(pixels - input_mean) / input_std``.
        input_mean: (3, 1, 1) mean of ``inputs``' normalisation, in 0-255 units; ``None``: the
            inputs are pixels.
        input_std: (3, 1, 1) its std; ``None`` with ``input_mean``.
        size: Side of CLIP's input (224 for ViT-B/16).
        img_shapes: Per image (h, w) of the image inside the padded input; ``None``: (H, W).
        ori_shapes: Per image (h, w) of the image file; ``None``: ``img_shapes``.

    Returns:
        (B, 3, size, size) CLIP-normalised images.
    """
    pixels = inputs if input_mean is None else inputs * input_std + input_mean  # (B, 3, H, W)
    pixels = pixels.float()  # antialiased bicubic resampling in fp32 on every device
    img_shapes = img_shapes or [tuple(inputs.shape[-2:])] * inputs.shape[0]
    ori_shapes = ori_shapes or img_shapes
    crops = []
    for image, (h, w), ori_shape in zip(pixels, img_shapes, ori_shapes):
        resized_h, resized_w = clip_resize_shape(ori_shape, size)
        resized = F.interpolate(image[None, :, :h, :w], size=(resized_h, resized_w),
                                mode='bicubic', align_corners=False, antialias=True)
        top, left = int((resized_h - size) / 2), int((resized_w - size) / 2)
        crops.append(resized[:, :, top:top + size, left:left + size])
    clip_pixels = torch.cat(crops).clamp(0, 255)  # (B, 3, size, size)
    mean = clip_pixels.new_tensor(CLIP_MEAN).view(3, 1, 1) * 255
    std = clip_pixels.new_tensor(CLIP_STD).view(3, 1, 1) * 255
    return ((clip_pixels - mean) / std).to(inputs.dtype)
