from .film_clipseg_head import FiLMCLIPSegHead

__all__ = ['FiLMCLIPSegHead']
