"""Helpers that build tiny models and data in the real formats (demo, benchmarks and tests);
dataset splits are written by :func:`write_segmentation_samples` alone."""
from .layout import write_segmentation_samples
from .tiny_assets import (TINY_BACKBONE, TINY_PROJECTION_DIM, TINY_TEXT, TINY_TEXT_ENCODER,
                          TINY_VISION, make_tiny_assets, make_tiny_cocostuff, make_tiny_hf_clip,
                          make_tiny_hf_clipseg, rescale_clipseg_decoder, save_tiny_checkpoint,
                          tiny_clip_images, write_coco_stuff_split)

__all__ = [
    'TINY_BACKBONE', 'TINY_PROJECTION_DIM', 'TINY_TEXT', 'TINY_TEXT_ENCODER', 'TINY_VISION',
    'make_tiny_assets', 'make_tiny_cocostuff', 'make_tiny_hf_clip', 'make_tiny_hf_clipseg',
    'rescale_clipseg_decoder', 'save_tiny_checkpoint', 'tiny_clip_images',
    'write_coco_stuff_split', 'write_segmentation_samples'
]
