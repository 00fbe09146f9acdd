"""Fail early, with a useful message, when a config's dataset is not on disk or unreadable."""
import os
import re
from typing import Iterator, Optional, Tuple

from coseg_mmseg.utils.errors import UserError

PREPARE_HINT = {
    'COCOStuffDataset': 'download COCO 2017 images and stuffthingmaps_trainval2017.zip, then run '
                        "mmseg's tools/dataset_converters/coco_stuff164k.py (docs/datasets.md)",
    'COCOStuffNaturalDataset': 'download COCO 2017 images and stuffthingmaps_trainval2017.zip, '
                               "then run mmseg's tools/dataset_converters/coco_stuff164k.py "
                               '(docs/datasets.md)',
    'PascalVOCDataset': 'extract VOCtrainval_11-May-2012.tar to data/VOCdevkit (docs/datasets.md)',
    'PascalContextDataset59': "extract VOC 2010 and run mmseg's "
                              'tools/dataset_converters/pascal_context.py (docs/datasets.md)',
    'PascalContext459Dataset': 'extract VOC 2010 and trainval.tar.gz, then run '
                               'tools/dataset_converters/pascal_context_459.py (docs/datasets.md)',
    'COCOObjectDataset': 'prepare COCO-Stuff-164k, then run '
                         'tools/dataset_converters/coco_object.py (docs/datasets.md)',
    'ADE20KDataset': 'unzip ADEChallengeData2016.zip to data/ade (docs/datasets.md)',
    'ADE20K847Dataset': 'unzip ADE20K_2021_17_01 to data/ade and run '
                        'tools/dataset_converters/ade20k_847.py (docs/datasets.md)',
}


def _datasets(cfg: dict, where: str) -> Iterator[Tuple[str, dict]]:
    """Every dataset config under a dataloader config, with its config path."""
    if not isinstance(cfg, dict):
        return
    if 'data_root' in cfg or 'data_prefix' in cfg:
        yield where, cfg
    if isinstance(cfg.get('dataset'), dict):
        yield from _datasets(cfg['dataset'], f'{where}.dataset')
    for i, sub in enumerate(cfg.get('datasets') or []):
        yield from _datasets(sub, f'{where}.datasets[{i}]')


def check_data_roots(cfg, loaders=('train_dataloader', 'val_dataloader', 'test_dataloader')
                     ) -> None:
    """Raise ``FileNotFoundError`` naming the first missing data root or image folder.

    Args:
        cfg: An mmengine ``Config``.
        loaders: The dataloader keys the command will use.
    """
    for loader in loaders:
        if not cfg.get(loader):
            continue
        for where, ds in _datasets(cfg[loader].get('dataset'), f'{loader}.dataset'):
            root = ds.get('data_root') or ''
            img_dir = (ds.get('data_prefix') or {}).get('img_path', '')
            path = os.path.join(root, img_dir)
            if path and not os.path.isdir(path):
                hint = PREPARE_HINT.get(ds.get('type'), 'see docs/datasets.md')
                missing = root if root and not os.path.isdir(root) else path
                raise FileNotFoundError(
                    f"dataset folder '{missing}' ({where}.data_root='{root}', data_prefix.img_path="
                    f"'{img_dir}') does not exist (working directory: {os.getcwd()}). To prepare "
                    f"{ds.get('type', 'the dataset')}: {hint}; or point the config at it with "
                    f"--cfg-options {where}.data_root=/path/to/data")


def empty_images(cfg, loaders=('train_dataloader', 'val_dataloader', 'test_dataloader'),
                 limit: int = 1000000) -> list:
    """The 0-byte files under the image folders of ``cfg``'s datasets (at most ``limit``
    files are looked at; only called once loading has failed)."""
    found, seen = [], 0
    for loader in loaders:
        if not cfg.get(loader):
            continue
        for _, ds in _datasets(cfg[loader].get('dataset'), f'{loader}.dataset'):
            folder = os.path.join(ds.get('data_root') or '',
                                  (ds.get('data_prefix') or {}).get('img_path', ''))
            for root, _, files in os.walk(folder or '.'):
                for name in sorted(files):
                    seen += 1
                    path = os.path.join(root, name)
                    if seen > limit:
                        return found
                    if os.path.getsize(path) == 0:
                        found.append(path)
    return found


def explain_data_error(exc: BaseException, cfg=None) -> Optional[UserError]:
    """A :class:`UserError` for an image of the dataset that cannot be decoded, if ``exc`` is
    mmcv's ``LoadImageFromFile`` failure (``assert img is not None, 'failed to load image:
    <path>'``, mmcv/transforms/loading.py), raised here or in a DataLoader worker, or OpenCV's
    refusal of an empty buffer (a 0-byte image; ``cfg``'s image folders are then searched for
    it)."""
    text = str(exc)
    if '!buf.empty()' in text:  # cv2.imdecode of b'': the error does not name the file
        empty = empty_images(cfg) if cfg is not None else []
        named = (f"image '{empty[0]}' of the dataset is empty (0 bytes"
                 f"{f', and {len(empty) - 1} more' if len(empty) > 1 else ''})" if empty
                 else 'an image of the dataset is empty (0 bytes; find it with '
                      '`find DATA_ROOT -size 0`)')
        return UserError(f'{named}; replace it, or remove it and its label map from the '
                         f'dataset')
    match = re.search(r'failed to load image: (\S+)', text)
    if not isinstance(exc, AssertionError) or match is None:
        return None
    path = match[1]
    return UserError(f"image '{path}' of the dataset is not an image (it exists but cannot be "
                     f'decoded: truncated or another format); replace it, or remove it and its '
                     f'label map from the dataset')
