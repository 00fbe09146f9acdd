from .frozen_clip_backbone import FrozenCLIPBackbone

__all__ = ['FrozenCLIPBackbone']
