"""LoadUInt16Annotations: mmseg's LoadAnnotations without the cast to uint8."""
import mmcv
import numpy as np
from mmengine import fileio
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadUInt16Annotations(LoadAnnotations):
    """Load a label map keeping ids above 255 (16-bit PNGs), for large vocabularies.

    mmseg's ``LoadAnnotations`` casts maps to uint8, which folds Pascal Context 459's ids 256..458
    onto others and makes the real class 255 an "ignore". This loader keeps uint16 and uses
    ``ignore_index`` (65535) as the ignore label, also for ``reduce_zero_label`` (0 becomes
    65535, others shift by one). Resizing transforms (nearest) accept uint16 maps.

    Args:
        ignore_index: The ignore label of the maps (65535).
        **kwargs: As mmseg's ``LoadAnnotations``.
    """

    def __init__(self, *, ignore_index: int = 65535, **kwargs) -> None:
        super().__init__(**kwargs)
        if not 0 <= ignore_index <= 65535:
            raise ValueError(f'ignore_index must fit in uint16, got {ignore_index}')
        self.ignore_index = ignore_index

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        seg = mmcv.imfrombytes(fileio.get(path, backend_args=self.backend_args),
                               flag='unchanged', backend=self.imdecode_backend)
        if seg is None or seg.ndim != 2 or seg.dtype not in (np.uint8, np.uint16):
            raise ValueError(f'{path}: expected a single-channel 8- or 16-bit label map, got '
                             f'{None if seg is None else (seg.dtype, seg.shape)}')
        seg = seg.astype(np.uint16)
        if self.reduce_zero_label is None:
            self.reduce_zero_label = results['reduce_zero_label']
        if self.reduce_zero_label:
            ignored = (seg == 0) | (seg == self.ignore_index)
            seg = seg - 1
            seg[ignored] = self.ignore_index
        if results.get('label_map') is not None:
            original = seg.copy()
            for old_id, new_id in results['label_map'].items():
                seg[original == old_id] = new_id
        results['gt_seg_map'] = seg
        results['seg_fields'].append('gt_seg_map')

    def __repr__(self) -> str:
        return f'{super().__repr__()[:-1]}, ignore_index={self.ignore_index})'
