"""Tiny models and data in the real on-disk formats, for the demo and the tests.

Nothing here is downloaded: a tiny random CLIP (and CLIPSeg) is built with transformers and
saved with ``save_pretrained``; images and label maps are drawn in COCO-Stuff-164k's layout
(``images/{train,val}2017/*.jpg``, ``annotations/{train,val}2017/*_labelTrainIds.png``).
"""
import os
from typing import Dict, Optional

import numpy as np

from .layout import write_segmentation_samples

# Tiny CLIP: a 64 px ViT with 16 px patches (4 x 4 grid), 4 blocks; a 2-block text tower with
# CLIP's real 49408-token vocabulary, so CLIP's tokenizer works unchanged.
TINY_VISION = dict(hidden_size=64, intermediate_size=256, num_hidden_layers=4,
                   num_attention_heads=4, image_size=64, patch_size=16)
TINY_TEXT = dict(hidden_size=32, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=2, vocab_size=49408, max_position_embeddings=77)
TINY_PROJECTION_DIM = 32

# Arguments of our modules that match the tiny CLIP above.
TINY_BACKBONE = dict(image_size=TINY_VISION['image_size'], patch_size=TINY_VISION['patch_size'],
                     embed_dims=TINY_VISION['hidden_size'],
                     num_layers=TINY_VISION['num_hidden_layers'],
                     num_heads=TINY_VISION['num_attention_heads'],
                     output_dim=TINY_PROJECTION_DIM, out_indices=(1, 2, 3))
TINY_TEXT_ENCODER = dict(embed_dims=TINY_TEXT['hidden_size'],
                         num_layers=TINY_TEXT['num_hidden_layers'],
                         num_heads=TINY_TEXT['num_attention_heads'],
                         output_dim=TINY_PROJECTION_DIM)

# Classes drawn in the tiny COCO-Stuff data (trainIds of mmseg's COCOStuffDataset), each with
# its own colour (BGR).
TINY_STUFF = {112: (40, 160, 60), 143: (170, 90, 20), 137: (110, 110, 110)}  # grass, sea, road
TINY_THINGS = {0: (60, 60, 220), 2: (200, 200, 30), 16: (30, 120, 200)}  # person, car, dog


def make_tiny_hf_clip(out_dir: str, *, seed: int = 0, vision: Optional[dict] = None) -> str:
    """Save a tiny random ``CLIPModel`` with ``save_pretrained`` and return its directory.

    ``vision`` replaces :data:`TINY_VISION` (another patch size or resolution).
    """
    import torch
    from transformers import CLIPConfig, CLIPModel
    torch.manual_seed(seed)
    config = CLIPConfig(text_config=TINY_TEXT, vision_config=vision or TINY_VISION,
                        projection_dim=TINY_PROJECTION_DIM)
    CLIPModel(config).eval().save_pretrained(out_dir)
    return out_dir


def rescale_clipseg_decoder(model):
    """Give a random CLIPSeg decoder fan-in scaled weights, in place.

    transformers initialises the decoder's linear and convolution weights with std 1, which
    makes logits in the hundreds; with these the logits are of a realistic size (about 1-10),
    so a 1e-4 parity bound means what it says.
    """
    import torch
    with torch.no_grad():
        for name, p in model.decoder.named_parameters():
            if p.dim() > 1:
                p.normal_(0, p[0].numel() ** -0.5)
            else:
                p.normal_(1.0 if 'layer_norm' in name and name.endswith('weight') else 0.0, 0.1)
    return model


def make_tiny_hf_clipseg(out_dir: str, *, seed: int = 0, reduce_dim: int = 16,
                         complex_upsample: bool = True, extract_layers=(1, 2, 3)) -> str:
    """Save a tiny random ``CLIPSegForImageSegmentation`` (rd64-refined's layout, tiny)."""
    import torch
    from transformers import CLIPSegConfig, CLIPSegForImageSegmentation
    torch.manual_seed(seed)
    config = CLIPSegConfig(
        text_config=TINY_TEXT, vision_config=TINY_VISION, projection_dim=TINY_PROJECTION_DIM,
        reduce_dim=reduce_dim, extract_layers=list(extract_layers), decoder_num_attention_heads=2,
        decoder_intermediate_size=64, use_complex_transposed_convolution=complex_upsample)
    model = rescale_clipseg_decoder(CLIPSegForImageSegmentation(config).eval())
    model.save_pretrained(out_dir)
    return out_dir


def _draw_scene(rng: np.random.Generator, height: int, width: int):
    """One image (H, W, 3) uint8 BGR and its label map (H, W) uint8."""
    stuff = list(TINY_STUFF)
    things = list(TINY_THINGS)
    label = np.full((height, width), stuff[rng.integers(len(stuff))], dtype=np.uint8)
    split = rng.integers(height // 3, 2 * height // 3)
    label[split:] = stuff[rng.integers(len(stuff))]
    for _ in range(rng.integers(1, 3)):
        cls = things[rng.integers(len(things))]
        h, w = rng.integers(height // 5, height // 2), rng.integers(width // 5, width // 2)
        y, x = rng.integers(0, height - h), rng.integers(0, width - w)
        label[y:y + h, x:x + w] = cls
    colours = {**TINY_STUFF, **TINY_THINGS}
    image = np.zeros((height, width, 3), dtype=np.float32)
    for cls, colour in colours.items():
        image[label == cls] = colour
    image += rng.normal(0, 12, image.shape)
    label[:2] = 255  # a strip of unlabeled pixels, as in the real maps
    return np.clip(image, 0, 255).astype(np.uint8), label


def make_tiny_cocostuff(root: str, *, num_train: int = 16, num_val: int = 8, height: int = 72,
                        width: int = 88, seed: int = 0) -> str:
    """Write a tiny COCO-Stuff-164k tree under ``root`` and return ``root``."""
    rng = np.random.default_rng(seed)
    for split, count in (('train2017', num_train), ('val2017', num_val)):
        write_coco_stuff_split(root, split, (_draw_scene(rng, height, width)
                                             for _ in range(count)))
    return root


def write_coco_stuff_split(root: str, split: str, scenes, *, first_id: int = 1,
                           jpeg_quality: Optional[int] = None) -> None:
    """Write (image BGR uint8, label uint8 trainIds) pairs as COCO-Stuff-164k's files of
    ``split``: ``images/<split>/<id>.jpg`` and ``annotations/<split>/<id>_labelTrainIds.png``,
    ids ``first_id``, ``first_id + 1``, ... on 12 digits (through
    :func:`~coseg_tools.generators.layout.write_segmentation_samples`; JPEG quality
    ``jpeg_quality``, None: OpenCV's 95)."""
    write_segmentation_samples(
        os.path.join(root, 'images', split), os.path.join(root, 'annotations', split),
        ((f'{first_id + i:012d}', image, label) for i, (image, label) in enumerate(scenes)),
        seg_map_suffix='_labelTrainIds.png', jpeg_quality=jpeg_quality)


def make_tiny_assets(out_dir: str, *, seed: int = 0) -> Dict[str, str]:
    """Tiny CLIP and CLIPSeg (HuggingFace format) and tiny COCO-Stuff under ``out_dir``.

    Idempotent: what exists is kept.
    """
    paths = dict(clip=os.path.join(out_dir, 'clip'), clipseg=os.path.join(out_dir, 'clipseg'),
                 coco_stuff=os.path.join(out_dir, 'coco_stuff164k'),
                 demo_image=os.path.join(out_dir, 'demo.jpg'))
    if not os.path.isfile(os.path.join(paths['clip'], 'config.json')):
        make_tiny_hf_clip(paths['clip'], seed=seed)
    if not os.path.isfile(os.path.join(paths['clipseg'], 'config.json')):
        make_tiny_hf_clipseg(paths['clipseg'], seed=seed)
    if not os.path.isdir(os.path.join(paths['coco_stuff'], 'annotations')):
        make_tiny_cocostuff(paths['coco_stuff'], seed=seed)
    if not os.path.isfile(paths['demo_image']):  # a larger scene for tools/demo.py
        import cv2
        image, _ = _draw_scene(np.random.default_rng(seed + 5), 288, 352)
        cv2.imwrite(paths['demo_image'], image)
    return paths


def tiny_clip_images(batch: int, *, size: Optional[int] = None, seed: int = 0):
    """A batch of random normalised images (B, 3, size, size) for parity tests."""
    import torch
    g = torch.Generator().manual_seed(seed)
    size = size or TINY_VISION['image_size']
    return torch.randn(batch, 3, size, size, generator=g)


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY_CONFIG = os.path.join(REPO, 'configs', 'tiny', 'coseg_prefix_tiny_cocostuff.py')


def save_tiny_checkpoint(root: str, path: str, *, config: str = TINY_CONFIG,
                         meta: Optional[dict] = None) -> str:
    """Tiny assets under ``root/data/tiny`` and a checkpoint of a randomly initialised (seed 0)
    model of ``config`` at ``root/path``, saved as tools/train.py saves one; returns its path.

    The model is built from mmseg's registries: call it with ``coseg_mmseg`` imported and
    mmseg's default scope set.
    """
    import torch
    from mmengine.config import Config
    from mmseg.registry import MODELS

    make_tiny_assets(os.path.join(root, 'data', 'tiny'))
    cwd = os.getcwd()
    os.chdir(root)  # the tiny configs name their weights relative to the working directory
    try:
        torch.manual_seed(0)
        model = MODELS.build(Config.fromfile(config).model)
        model.init_weights()
        torch.save(dict(state_dict=model.state_dict(), meta=meta or {}), path)
    finally:
        os.chdir(cwd)
    return os.path.join(root, path)
