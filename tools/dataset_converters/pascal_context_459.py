"""Pascal Context 459: official ``trainval/*.mat`` LabelMaps -> 16-bit PNG label maps.

Usage:
    python tools/dataset_converters/pascal_context_459.py data/VOCdevkit/VOC2010 \
        --mat-dir data/trainval --split ImageSets/SegmentationContext/val.txt [--nproc 8]

Writes ``SegmentationClassContext459/<id>.png`` under the VOC2010 folder: ids 0..458 in
``labels.txt`` order (LabelMap - 1), 65535 for unlabeled pixels.
"""
import argparse
import os

from coseg_mmseg.datasets.converters import convert_pascal_context_459
from coseg_tools.cli import UserError, add_debug_argument, run_tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('voc_root', help='data/VOCdevkit/VOC2010')
    parser.add_argument('--mat-dir', required=True, help='folder of the official <id>.mat files')
    parser.add_argument('--split', default='ImageSets/SegmentationContext/val.txt',
                        help='list of image ids, relative to voc_root (default: the val list)')
    parser.add_argument('--out', default='SegmentationClassContext459',
                        help='output folder, relative to voc_root')
    parser.add_argument('--nproc', type=int, default=1)
    add_debug_argument(parser)
    args = parser.parse_args()
    split = os.path.join(args.voc_root, args.split)
    if not os.path.isdir(args.mat_dir):
        raise UserError(f"--mat-dir '{args.mat_dir}' does not exist: extract the official "
                        f'trainval.tar.gz and give its trainval/ folder (docs/datasets.md)')
    if not os.path.isfile(split):
        raise UserError(f"split file '{split}' does not exist: give the VOC2010 folder as "
                        f'voc_root and --split relative to it (docs/datasets.md)')
    try:
        count = convert_pascal_context_459(args.mat_dir, split,
                                           os.path.join(args.voc_root, args.out),
                                           nproc=args.nproc)
    except (ValueError, KeyError) as exc:  # names the .mat file that cannot be read
        raise UserError(f'{exc.args[0] if exc.args else exc}; is --mat-dir the official '
                        f'trainval/ folder?') from exc
    print(f'wrote {count} label maps to {os.path.join(args.voc_root, args.out)}')


if __name__ == '__main__':
    run_tool(main)
