"""Datasets, transforms and vocabularies that mmseg lacks (registered on import)."""
from .coco_object import COCOObjectDataset
from .coco_stuff_natural import COCOStuffNaturalDataset
from .pascal_context_459 import PascalContext459Dataset
from .transforms import LoadUInt16Annotations
from .vocabularies import VOCABULARIES, get_vocabulary

__all__ = ['COCOObjectDataset', 'COCOStuffNaturalDataset', 'PascalContext459Dataset', 'LoadUInt16Annotations',
           'VOCABULARIES', 'get_vocabulary']
