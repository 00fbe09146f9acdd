"""Write a training set already through its config's deterministic resize and crop (one time).

Usage:
    python tools/dataset_converters/preresize_coco_stuff.py CONFIG --out data/coco_stuff164k_224
        [--src DATA_ROOT] [--nproc 8]

The paper's training pipeline is deterministic (shortest edge to 224, then the central
224 x 224), so every epoch decodes a 640 x 480 JPEG and resizes it to the same 224 x 224 result.
This runs CONFIG's ``train_dataloader.dataset.pipeline`` once per image, up to (not including)
``PackSegInputs``, and writes what comes out: the image as a PNG (lossless, so training on the
written set gives the same tensors as the original) and its label map, in the same layout
(``images/<split>/<stem>.png``, ``annotations/<split>/<stem>_labelTrainIds.png``). Train on it
with ``configs/coseg/*_1xb64-bf16_cocostuff-224.py`` (or ``img_suffix='.png'`` and the new
``data_root`` in any config). A pipeline with a random transform (random crop, flip, colour
jitter) is refused: its output differs every epoch. Existing outputs are kept (a run resumes).
"""
import argparse
import os
import os.path as osp
from multiprocessing import Pool
from typing import List, Optional, Tuple

import cv2

import coseg_mmseg  # noqa: F401  (registers the components)
from coseg_tools.cli import UserError, add_debug_argument, run_tool
from coseg_tools.tool_config import load_config

# Transforms whose output depends on their input alone.
DETERMINISTIC = ('LoadImageFromFile', 'LoadAnnotations', 'ResizeShortestEdge', 'Resize',
                 'CenterCrop')
PACK = 'PackSegInputs'


def deterministic_part(pipeline: List[dict], config: str) -> List[dict]:
    """The transforms before ``PackSegInputs``; raises naming the first random one."""
    part = []
    for transform in pipeline:
        name = transform['type']
        if name == PACK:
            return part
        if name not in DETERMINISTIC or (name == 'Resize' and transform.get('scale') is None):
            raise UserError(
                f'{config}: train pipeline transform {name!r} is not deterministic (or not '
                f'known to be: {", ".join(DETERMINISTIC)}); pre-resizing would freeze one '
                f'random draw for every epoch. Remove it, or train on the original data')
        part.append(transform)
    raise UserError(f'{config}: train pipeline has no {PACK!r}; nothing to stop before')


def build_dataset(config: str, src: Optional[str]):
    """CONFIG's training dataset with its pipeline cut before ``PackSegInputs``."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    cfg = load_config(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    if src is not None:
        dataset_cfg['data_root'] = src
    dataset_cfg['pipeline'] = deterministic_part(dataset_cfg['pipeline'], config)
    dataset_cfg['lazy_init'] = False
    dataset = DATASETS.build(dataset_cfg)
    if dataset.label_map:
        raise UserError(f'{config}: the dataset remaps label ids (metainfo '
                         f'{dataset_cfg.get("metainfo")}); pre-resize with the full class list, '
                         f'the remapping runs at load')
    return dataset


def output_paths(data_info: dict, src_root: str, out_root: str) -> Tuple[str, str]:
    """Where one sample's image and label map go: the same relative paths under ``out_root``,
    the image as ``.png``."""
    img = osp.relpath(data_info['img_path'], src_root)
    seg = osp.relpath(data_info['seg_map_path'], src_root)
    return (osp.join(out_root, osp.splitext(img)[0] + '.png'), osp.join(out_root, seg))


def _write(path: str, array) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    partial = path + '.partial.png'
    if not cv2.imwrite(partial, array):
        raise OSError(f'could not write {path}')
    os.replace(partial, path)  # whole or absent: an interrupted run resumes cleanly


_DATASET = None


def _init(config: str, src: Optional[str]) -> None:
    global _DATASET
    _DATASET = build_dataset(config, src)


def _convert(args: Tuple[int, str]) -> bool:
    index, out_root = args
    info = _DATASET.get_data_info(index)
    img_out, seg_out = output_paths(info, _DATASET.data_root, out_root)
    if osp.isfile(img_out) and osp.isfile(seg_out):
        return False
    results = _DATASET.pipeline(info)
    _write(img_out, results['img'])
    _write(seg_out, results['gt_seg_map'])
    return True


def convert(config: str, out_root: str, *, src: Optional[str] = None, nproc: int = 1) -> int:
    """Pre-resize CONFIG's training set into ``out_root``; returns the number written."""
    dataset = build_dataset(config, src)
    if osp.abspath(out_root) == osp.abspath(dataset.data_root):
        raise UserError(f'--out {out_root!r} is the source data_root: write elsewhere')
    jobs = [(i, out_root) for i in range(len(dataset))]
    if nproc <= 1:
        global _DATASET
        _DATASET = dataset
        return sum(map(_convert, jobs))
    with Pool(nproc, initializer=_init, initargs=(config, src)) as pool:
        return sum(pool.imap_unordered(_convert, jobs, chunksize=16))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the config whose train pipeline is applied')
    parser.add_argument('--out', required=True, help='new data root, e.g. data/coco_stuff164k_224')
    parser.add_argument('--src', help="source data root (default: the config's data_root)")
    parser.add_argument('--nproc', type=int, default=1)
    add_debug_argument(parser)
    args = parser.parse_args()
    count = convert(args.config, args.out, src=args.src, nproc=args.nproc)
    print(f'wrote {count} pre-resized samples to {args.out}')


if __name__ == '__main__':
    run_tool(main)
