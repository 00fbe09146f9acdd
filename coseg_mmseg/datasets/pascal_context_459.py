"""PascalContext459Dataset: the full Pascal Context label set (459 classes, 16-bit maps)."""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .vocabularies import PASCAL_CONTEXT_459


@DATASETS.register_module()
class PascalContext459Dataset(BaseSegDataset):
    """Pascal Context with all 459 classes (Mottaghi et al. 2014), validation split.

    Label maps are 16-bit PNGs written by ``tools/dataset_converters/pascal_context_459.py``:
    ids 0..458 follow ``labels.txt`` order (the official ``LabelMap`` minus 1) and 65535 is
    "unlabeled". Load them with ``LoadUInt16Annotations`` (mmseg's loader casts to uint8, and
    255 is a real class here) and evaluate with ``IoUMetric(ignore_index=65535)``.

    Layout: ``JPEGImages/<id>.jpg``, ``SegmentationClassContext459/<id>.png`` and the split list
    ``ImageSets/SegmentationContext/val.txt`` under ``data/VOCdevkit/VOC2010``.
    """

    METAINFO = dict(classes=PASCAL_CONTEXT_459)

    def __init__(self, img_suffix: str = '.jpg', seg_map_suffix: str = '.png',
                 ignore_index: int = 65535, **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=False, ignore_index=ignore_index, **kwargs)
