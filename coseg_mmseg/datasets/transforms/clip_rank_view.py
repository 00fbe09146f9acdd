"""CLIPRankView: CLIP's own input, made from the decoded image, as a second view of the sample."""
from typing import Sequence, Tuple

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image

# OpenAI CLIP's statistics (0-1 RGB units): OpenAI CLIP's clip/clip.py ``_transform``,
# transformers' OPENAI_CLIP_MEAN / OPENAI_CLIP_STD.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def clip_resize_shape(ori_shape: Sequence[int], size: int) -> Tuple[int, int]:
    """(h, w) CLIP's preprocessing resizes an (H, W) image to: shortest edge ``size``.

    As ``CLIPImageProcessor`` (transformers' ``get_resize_output_image_size``): the long edge
    is ``int(size * long / short)``, truncated.
    """
    height, width = ori_shape[:2]
    if width <= height:
        return int(size * height / width), size
    return size, int(size * width / height)


@TRANSFORMS.register_module()
class CLIPRankView(BaseTransform):
    """CLIP's input for ranking the vocabulary, made from the decoded image as CLIP's own
    preprocessing makes it, kept beside the image the rest of the pipeline resizes.

    The no-training baseline feeds CLIPSeg a 352 x 352 squash; its ranking CLIP expects
    another view of the same file: shortest edge resized to ``size`` with PIL's bicubic
    resampling, the central ``size`` x ``size`` square, scaled to 0-1 and normalised with
    CLIP's statistics, as transformers' ``CLIPImageProcessor`` (PIL backend) and OpenAI's
    ``clip.load`` preprocessing do. Put it right after ``LoadImageFromFile`` (before any
    resize) and name ``key`` in ``PackSegInputs``' ``meta_keys``: the view then reaches the
    model in each sample's metainfo (:meth:`CoSegNoTrain.rank_inputs`).

    Required keys: ``img`` ((H, W, 3) uint8, BGR as mmcv decodes it).
    Added keys: ``key`` ((3, size, size) float32 tensor).

    Args:
        size: Side of CLIP's input (224 for ViT-B/16; the model's ``rank_size``).
        mean: Per-channel RGB mean in 0-1 units (CLIP's).
        std: Per-channel RGB std in 0-1 units (CLIP's).
        key: Where the view is stored.
    """

    def __init__(self, size: int = 224, mean: Sequence[float] = CLIP_MEAN,
                 std: Sequence[float] = CLIP_STD, key: str = 'clip_rank_input') -> None:
        if size < 1:
            raise ValueError(f'CLIPRankView: size must be >= 1, got {size}')
        if len(mean) != 3 or len(std) != 3:
            raise ValueError(f'CLIPRankView: mean and std need 3 values (RGB), got {mean}, {std}')
        self.size = size
        self.mean = np.asarray(mean, dtype=np.float32).reshape(3, 1, 1)
        self.std = np.asarray(std, dtype=np.float32).reshape(3, 1, 1)
        self.key = key

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"CLIPRankView: {results.get('img_path', 'the image')} must be "
                             f'decoded as (H, W, 3) uint8 colour, got {img.dtype} {img.shape}')
        height, width = clip_resize_shape(img.shape[:2], self.size)
        rgb = Image.fromarray(np.ascontiguousarray(img[..., ::-1]))
        resized = np.asarray(rgb.resize((width, height), resample=Image.BICUBIC))  # (h, w, 3)
        top, left = (height - self.size) // 2, (width - self.size) // 2
        crop = resized[top:top + self.size, left:left + self.size].transpose(2, 0, 1)
        scaled = (crop.astype(np.float64) * (1 / 255)).astype(np.float32)  # (3, size, size)
        results[self.key] = torch.from_numpy((scaled - self.mean) / self.std)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, mean={self.mean.ravel().tolist()}, '
                f'std={self.std.ravel().tolist()}, key={self.key!r})')
