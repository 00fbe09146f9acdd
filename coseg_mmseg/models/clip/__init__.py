"""CLIP towers and weight loading shared by the backbone, text encoder and head."""
from .clip_towers import CLIPTextTower, CLIPVisionTower
from .clip_weights import (convert_hf_clip, convert_open_clip, load_clip_weights,
                           load_pretrained, load_submodule_weights)

__all__ = [
    'CLIPVisionTower', 'CLIPTextTower', 'convert_hf_clip', 'convert_open_clip',
    'load_clip_weights', 'load_pretrained', 'load_submodule_weights'
]
