"""Datasets, transforms and vocabularies that mmseg lacks (registered on import)."""
from .coco_object import COCOObjectDataset
from .pascal_context_459 import PascalContext459Dataset
from .transforms import LoadUInt16Annotations
from .vocabularies import VOCABULARIES, check_vocabulary, parse_vocabulary

__all__ = ['COCOObjectDataset', 'PascalContext459Dataset', 'LoadUInt16Annotations',
           'VOCABULARIES', 'check_vocabulary', 'parse_vocabulary']
