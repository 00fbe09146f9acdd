from .frozen_clip_text_encoder import FrozenCLIPTextEncoder, check_templates, check_vocabulary

__all__ = ['FrozenCLIPTextEncoder', 'check_templates', 'check_vocabulary']
