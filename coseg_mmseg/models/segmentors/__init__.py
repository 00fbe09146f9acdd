from .coseg import CoSeg

__all__ = ['CoSeg']
