"""The one writer of generated data in mmseg's on-disk layout: images, label maps, split files.

Every generator (the tiny COCO-Stuff, the convergence benchmark, the open world, the data-path
benchmark's COCO-sized samples, the tests' miniature benchmarks) draws its own scenes and hands
them here to be written, so that they all land on disk the same way: ``img_dir/<stem><img
suffix>``, ``ann_dir/<stem><label suffix>`` (a PNG of the label values, 8 or 16 bits, or a
palette PNG whose indices are the labels) and, if asked, a split file naming the stems one a
line (what mmseg's ``ann_file`` reads).
"""
import os
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np


def write_segmentation_samples(img_dir: str, ann_dir: str,
                               samples: Iterable[Tuple[str, np.ndarray, np.ndarray]], *,
                               img_suffix: str = '.jpg', seg_map_suffix: str = '.png',
                               jpeg_quality: Optional[int] = None,
                               palette: Optional[Sequence[int]] = None,
                               split_file: Optional[str] = None) -> List[str]:
    """Write ``(stem, image, label)`` samples as one split of an mmseg dataset.

    Args:
        img_dir: Folder of the images (made if missing).
        ann_dir: Folder of the label maps (made if missing).
        samples: Per sample its file stem, its image (H, W, 3) uint8 in BGR order (OpenCV's)
            and its label map (H, W), uint8 or uint16, of the same size.
        img_suffix: The images' suffix; its extension picks the encoding (``.jpg``, ``.png``).
        seg_map_suffix: What follows the stem in a label map's name (e.g.
            ``'_labelTrainIds.png'``); a PNG.
        jpeg_quality: JPEG quality of the images (None: OpenCV's default, 95).
        palette: Write the label maps as palette PNGs (VOC's format: the indices are the
            labels) with these 768 RGB values; None writes the values as grey levels.
        split_file: Also write the stems to this file, one a line (mmseg's ``ann_file``).

    Returns:
        The stems written, in order.

    Raises:
        OSError: A file could not be written (OpenCV only says so by its return value).
        ValueError: A label map's size differs from its image's, or a palette map is not 8-bit.
    """
    import cv2
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(ann_dir, exist_ok=True)
    params = [] if jpeg_quality is None else [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]
    stems = []
    for stem, image, label in samples:
        if image.shape[:2] != label.shape:
            raise ValueError(f'sample {stem!r}: image is {image.shape[:2]}, label map '
                             f'{label.shape}: they must have the same size')
        image_path = os.path.join(img_dir, stem + img_suffix)
        if not cv2.imwrite(image_path, image, params):
            raise OSError(f'could not write {image_path}')
        label_path = os.path.join(ann_dir, stem + seg_map_suffix)
        if palette is None:
            if not cv2.imwrite(label_path, label):
                raise OSError(f'could not write {label_path}')
        else:
            if label.dtype != np.uint8:
                raise ValueError(f'sample {stem!r}: a palette map holds 8-bit labels, got '
                                 f'{label.dtype}')
            from PIL import Image
            mapped = Image.fromarray(label, mode='P')
            mapped.putpalette(list(palette))
            mapped.save(label_path)
        stems.append(stem)
    if split_file is not None:
        os.makedirs(os.path.dirname(os.path.abspath(split_file)), exist_ok=True)
        with open(split_file, 'w') as f:
            f.write(''.join(stem + '\n' for stem in stems))
    return stems
