from .frozen_clip_text_encoder import FrozenCLIPTextEncoder, check_templates

__all__ = ['FrozenCLIPTextEncoder', 'check_templates']
