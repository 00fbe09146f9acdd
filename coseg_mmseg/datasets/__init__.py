"""Datasets, transforms and vocabularies that mmseg lacks (registered on import)."""
from .ade20k_847 import ADE20K847Dataset
from .coco_object import COCOObjectDataset
from .coco_stuff_natural import COCOStuffNaturalDataset
from .pascal_context_459 import PascalContext459Dataset
from .transforms import CLIPRankView, LoadUInt16Annotations
from .vocabularies import VOCABULARIES, check_vocabulary, parse_vocabulary

__all__ = ['ADE20K847Dataset', 'CLIPRankView', 'COCOObjectDataset', 'COCOStuffNaturalDataset',
           'PascalContext459Dataset', 'LoadUInt16Annotations', 'VOCABULARIES', 'check_vocabulary',
           'parse_vocabulary']
