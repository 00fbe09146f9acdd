"""CoSeg for MMSegmentation 1.x.

``import coseg_mmseg`` (or ``custom_imports=dict(imports=['coseg_mmseg'])`` in a config)
registers the models, datasets, metrics and hooks in mmseg's registries.
"""
from . import datasets, engine, evaluation, models  # noqa: F401  (registration)
from .utils import allow_mmengine_checkpoint_types
from .utils.checkpoint_loader import register_checkpoint_loader

__version__ = '0.1.0'

allow_mmengine_checkpoint_types()
register_checkpoint_loader()  # local checkpoints: weights-only, layout checked
