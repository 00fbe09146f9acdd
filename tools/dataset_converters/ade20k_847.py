"""ADE20K-847: the full ADE20K release's validation images -> images + 16-bit label maps.

Usage:
    python tools/dataset_converters/ade20k_847.py data/ade/ADE20K_2021_17_01 \
        [--out data/ade/ADE20K_847] [--nproc 8]

Reads ``index_ade20k.pkl`` (``folder`` + ``filename`` of every image) and converts the validation
images: the object class of a pixel is ``(R // 10) * 256 + G`` of its ``<name>_seg.png``, mapped
to trainIds 0..846 by ``ADE20K_847_FULL_IDS``; every other id (0 included) becomes 65535.
Images whose short side exceeds 512 are resized to 512 (image bilinear, labels nearest). Writes
``images/validation/<name>.jpg`` and ``annotations/validation/<name>.png`` (16-bit) under --out.
"""
import argparse
import os
import pickle
import shutil
from typing import List, Tuple

import numpy as np

from coseg_mmseg.datasets.ade20k_847 import ADE20K_847_FULL_IDS
from coseg_mmseg.datasets.converters import run_jobs, write_label_png
from coseg_mmseg.utils.torch_load import load_plain_pickle
from coseg_tools.cli import UserError, add_debug_argument, run_tool

MAX_SHORT_SIDE = 512
IGNORE = 65535


def full_id_to_train_id() -> np.ndarray:
    """Lookup table (26 * 256,) uint16: full-release class id -> trainId, or 65535."""
    lut = np.full(26 * 256, IGNORE, dtype=np.uint16)  # R // 10 <= 25
    lut[np.asarray(ADE20K_847_FULL_IDS)] = np.arange(len(ADE20K_847_FULL_IDS))
    return lut


def validation_images(root: str) -> List[str]:
    """Paths of the validation images that ``root/index_ade20k.pkl`` lists.

    The index's folders start with the release's own folder name
    (``ADE20K_2021_17_01/images/ADE/validation/...``); they are read from their ``images`` part
    on, under ``root``, so the release folder may be renamed.
    """
    index_path = os.path.join(root, 'index_ade20k.pkl')
    if not os.path.isfile(index_path):
        raise FileNotFoundError(f'{index_path} does not exist: give the folder of the extracted '
                                f'ADE20K_2021_17_01 release (docs/datasets.md)')
    with open(index_path, 'rb') as f:
        try:
            index = load_plain_pickle(f)  # data only: a pickle can run code
        except (pickle.UnpicklingError, EOFError) as exc:
            raise UserError(f'{index_path} cannot be read as the ADE20K index ({exc}); '
                             f'extract it again from the release') from exc
    if not isinstance(index, dict) or not {'folder', 'filename'} <= set(index):
        raise UserError(f'{index_path}: expected a dict with "folder" and "filename" lists; '
                        f'extract it again from the release')
    paths = []
    for folder, filename in zip(index['folder'], index['filename']):
        parts = folder.replace('\\', '/').split('/')
        if 'validation' not in parts:
            continue
        if 'images' not in parts:
            raise UserError(f'{index_path}: folder {folder!r} has no "images" part')
        paths.append(os.path.join(root, *parts[parts.index('images'):], filename))
    if not paths:
        raise UserError(f'{index_path} lists no validation image')
    return paths


def convert_one(job: Tuple[str, str, str]) -> None:
    """One image and its ``_seg.png`` -> a resized image and a 16-bit trainId map."""
    import cv2
    image_path, out_image, out_label = job
    seg_path = os.path.splitext(image_path)[0] + '_seg.png'
    seg = cv2.imread(seg_path, cv2.IMREAD_COLOR)  # BGR
    if seg is None:
        raise FileNotFoundError(f'{seg_path} (the class map of {image_path}) is missing or '
                                f'unreadable')
    full_ids = (seg[..., 2].astype(np.int64) // 10) * 256 + seg[..., 1]
    label = full_id_to_train_id()[full_ids]
    image = cv2.imread(image_path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f'{image_path} is missing or unreadable')
    if image.shape[:2] != label.shape:
        raise UserError(f'{image_path} is {image.shape[:2]} pixels but its {seg_path} is '
                        f'{label.shape}; extract the release again')
    height, width = label.shape
    scale = MAX_SHORT_SIDE / min(height, width)
    os.makedirs(os.path.dirname(out_image), exist_ok=True)
    if scale >= 1:  # small enough: the original file, not re-encoded
        shutil.copyfile(image_path, out_image)
    else:
        size = (round(width * scale), round(height * scale))  # (w, h) for cv2
        if not cv2.imwrite(out_image, cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)):
            raise OSError(f'could not write {out_image}')
        label = cv2.resize(label, size, interpolation=cv2.INTER_NEAREST)
    write_label_png(out_label, label)


def convert_ade20k_847(root: str, out_dir: str, *, nproc: int = 1) -> int:
    """Convert every validation image of the release at ``root`` into ``out_dir``.

    Returns:
        The number of images written.
    """
    jobs = []
    for path in validation_images(root):
        stem = os.path.splitext(os.path.basename(path))[0]
        jobs.append((path, os.path.join(out_dir, 'images', 'validation', stem + '.jpg'),
                     os.path.join(out_dir, 'annotations', 'validation', stem + '.png')))
    run_jobs(convert_one, jobs, nproc, 'ADE20K-847')
    return len(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the extracted release, e.g. data/ade/ADE20K_2021_17_01')
    parser.add_argument('--out', default='data/ade/ADE20K_847',
                        help='output folder (default: data/ade/ADE20K_847, the configs\' root)')
    parser.add_argument('--nproc', type=int, default=1)
    add_debug_argument(parser)
    args = parser.parse_args()
    count = convert_ade20k_847(args.root, args.out, nproc=args.nproc)
    print(f'wrote {count} images and label maps to {args.out}')


if __name__ == '__main__':
    run_tool(main)
