"""COCOStuffNaturalDataset: mmseg's COCO-Stuff-164k with natural class names."""
from mmseg.datasets import COCOStuffDataset
from mmseg.registry import DATASETS

from .vocabularies import COCO_STUFF


@DATASETS.register_module()
class COCOStuffNaturalDataset(COCOStuffDataset):
    """COCO-Stuff-164k (171 classes, ``*_labelTrainIds.png``) named as natural prompts.

    mmseg's ``COCOStuffDataset`` names its classes as the dataset files do ("sky-other",
    "wall-brick"; 31 of the 171 differ from :data:`COCO_STUFF`), and a config cannot rename them
    through ``metainfo`` (mmseg treats new names as a class subset). The same label ids, the same
    order and palette; only the names are :data:`~coseg_mmseg.datasets.vocabularies.COCO_STUFF`,
    so training, validation and testing see one vocabulary.
    """

    METAINFO = dict(classes=COCO_STUFF, palette=COCOStuffDataset.METAINFO['palette'])
