"""Helpers that build tiny models and data in the real formats (demo and tests)."""
from .tiny_assets import (TINY_BACKBONE, TINY_PROJECTION_DIM, TINY_TEXT, TINY_TEXT_ENCODER,
                          TINY_VISION, make_tiny_assets, make_tiny_cocostuff, make_tiny_hf_clip,
                          make_tiny_hf_clipseg, rescale_clipseg_decoder, save_tiny_checkpoint,
                          tiny_clip_images)

__all__ = [
    'TINY_BACKBONE', 'TINY_PROJECTION_DIM', 'TINY_TEXT', 'TINY_TEXT_ENCODER', 'TINY_VISION',
    'make_tiny_assets', 'make_tiny_cocostuff', 'make_tiny_hf_clip', 'make_tiny_hf_clipseg',
    'rescale_clipseg_decoder', 'save_tiny_checkpoint', 'tiny_clip_images'
]
