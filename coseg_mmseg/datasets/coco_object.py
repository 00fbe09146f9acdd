"""COCOObjectDataset: COCO's 80 thing classes, with stuff and unlabeled as ignored background."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .vocabularies import COCO_OBJECT


@DATASETS.register_module()
class COCOObjectDataset(BaseSegDataset):
    """COCO-Object: the 80 thing classes of COCO-Stuff-164k.

    Maps (``*_objectTrainIds.png``, written by ``tools/dataset_converters/coco_object.py`` from
    COCO-Stuff's ``*_labelTrainIds.png``) hold things as 1..80 and background (stuff and
    unlabeled) as 0; ``reduce_zero_label`` makes them 0..79 with background ignored (255).
    """

    METAINFO = dict(classes=COCO_OBJECT)

    def __init__(self, img_suffix: str = '.jpg', seg_map_suffix: str = '_objectTrainIds.png',
                 **kwargs) -> None:
        kwargs.setdefault('reduce_zero_label', True)
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
