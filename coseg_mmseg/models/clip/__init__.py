"""CLIP towers, and the CLIP weights: conversion between layouts and loading from sources."""
from .clip_conversion import (check_clipseg_decoder, convert_hf_clip, convert_open_clip,
                              convert_original_clipseg)
from .clip_loading import (CLIPWeightsError, check_weights_source, load_clip_weights,
                           load_hf_checkpoint, load_submodule_weights)
from .clip_pretrained import CLIPPretrained, clip_init_cfg, load_pretrained
from .clip_towers import CLIPTextTower, CLIPVisionTower

__all__ = [
    'CLIPPretrained', 'CLIPVisionTower', 'CLIPWeightsError', 'CLIPTextTower',
    'check_clipseg_decoder', 'check_weights_source', 'clip_init_cfg', 'convert_hf_clip',
    'convert_open_clip', 'convert_original_clipseg', 'load_clip_weights', 'load_hf_checkpoint',
    'load_pretrained', 'load_submodule_weights'
]
