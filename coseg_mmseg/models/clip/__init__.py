"""CLIP towers and weight loading shared by the backbone, text encoder and head."""
from .clip_towers import CLIPTextTower, CLIPVisionTower
from .clip_weights import (check_clipseg_decoder, convert_hf_clip, convert_open_clip,
                           convert_original_clipseg, load_clip_weights,
                           load_pretrained, load_submodule_weights)

__all__ = [
    'CLIPVisionTower', 'CLIPTextTower', 'check_clipseg_decoder', 'convert_hf_clip',
    'convert_open_clip', 'convert_original_clipseg',
    'load_clip_weights', 'load_pretrained', 'load_submodule_weights'
]
