"""CoSeg for MMSegmentation 1.x.

``import coseg_mmseg`` (or ``custom_imports=dict(imports=['coseg_mmseg'])`` in a config)
registers the models, datasets, metrics and hooks in mmseg's registries.
"""
from . import datasets, engine, evaluation, models  # noqa: F401  (registration)
from .utils import allow_mmengine_checkpoint_types

__version__ = '0.1.0'

allow_mmengine_checkpoint_types()
