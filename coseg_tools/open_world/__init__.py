"""The open world of issue 24: generated classes whose names compose, a seeded seen / unseen
split, scenes in an mmseg layout and a contrastively trained tiny CLIP.

Only light modules are imported here (numpy); the CLIP pretraining and the report import torch
and transformers when they are called.
"""
from .world import CLASSES, STUFF, THINGS, make_split

__all__ = ['CLASSES', 'STUFF', 'THINGS', 'make_split']
