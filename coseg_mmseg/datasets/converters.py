"""Converters from the official annotation files to the maps our datasets read."""
import os
from multiprocessing import Pool
from typing import Callable, List, Sequence, Tuple

import numpy as np

COCO_THINGS = 80  # COCO-Stuff-164k trainIds 0..79 are the thing classes


def run_jobs(fn: Callable, jobs: Sequence[Tuple], nproc: int, desc: str) -> List:
    """Map ``fn`` over ``jobs`` (in ``nproc`` processes) with a progress bar; the results in
    the jobs' order."""
    from tqdm import tqdm
    if nproc > 1:
        with Pool(nproc) as pool:
            return list(tqdm(pool.imap(fn, jobs, chunksize=16), total=len(jobs), desc=desc))
    return [fn(job) for job in tqdm(jobs, desc=desc)]


def write_label_png(path: str, label: np.ndarray) -> None:
    """Write ``label`` (H, W), uint8 or uint16, as a PNG at ``path`` (its folder made).

    Raises:
        OSError: The file could not be written.
    """
    import cv2
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, label):
        raise OSError(f'could not write {path}')


def convert_pc459_one(job: Tuple[str, str]) -> None:
    """``LabelMap`` of one official ``trainval/<id>.mat`` -> 16-bit PNG of ids 0..458/65535."""
    from scipy.io import loadmat
    mat_path, out_path = job
    try:
        label = loadmat(mat_path)['LabelMap']
    except KeyError:
        raise KeyError(f'{mat_path} has no LabelMap variable') from None
    label = label.astype(np.int64) - 1  # official ids 1..459; 0 is unlabeled
    if label.max() >= 459:
        raise ValueError(f'{mat_path}: LabelMap holds id {label.max() + 1} > 459')
    label[label < 0] = 65535
    write_label_png(out_path, label.astype(np.uint16))


def convert_pascal_context_459(mat_dir: str, split_file: str, out_dir: str, *,
                               nproc: int = 1) -> int:
    """Write ``out_dir/<id>.png`` for each id of ``split_file`` from ``mat_dir/<id>.mat``.

    Returns:
        The number of maps written.

    Raises:
        FileNotFoundError: Naming the first missing ``.mat`` file.
    """
    with open(split_file) as f:
        ids = [line.strip() for line in f if line.strip()]
    jobs = []
    for image_id in ids:
        mat = os.path.join(mat_dir, image_id + '.mat')
        if not os.path.isfile(mat):
            raise FileNotFoundError(f'{mat} (listed in {split_file}) does not exist')
        jobs.append((mat, os.path.join(out_dir, image_id + '.png')))
    run_jobs(convert_pc459_one, jobs, nproc, 'Pascal Context 459')
    return len(jobs)


def convert_coco_object_one(job: Tuple[str, str]) -> None:
    """COCO-Stuff trainIds (things 0..79, stuff 80..170, 255) -> things 1..80, else 0."""
    import cv2
    src, dst = job
    label = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    if label is None or label.ndim != 2:
        raise ValueError(f'{src}: not a single-channel label map')
    out = np.where(label < COCO_THINGS, label.astype(np.int64) + 1, 0).astype(np.uint8)
    write_label_png(dst, out)


def convert_coco_object(stuff_ann_dir: str, out_dir: str, *, nproc: int = 1) -> int:
    """Convert every ``*_labelTrainIds.png`` of a COCO-Stuff split to ``*_objectTrainIds.png``."""
    names = sorted(f for f in os.listdir(stuff_ann_dir) if f.endswith('_labelTrainIds.png'))
    if not names:
        raise FileNotFoundError(f'no *_labelTrainIds.png in {stuff_ann_dir}: run mmseg\'s '
                                f'coco_stuff164k.py converter first (docs/datasets.md)')
    jobs = [(os.path.join(stuff_ann_dir, n),
             os.path.join(out_dir, n.replace('_labelTrainIds.png', '_objectTrainIds.png')))
            for n in names]
    run_jobs(convert_coco_object_one, jobs, nproc, 'COCO-Object')
    return len(jobs)
