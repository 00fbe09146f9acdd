"""COCO-Object: COCO-Stuff-164k ``*_labelTrainIds.png`` -> ``*_objectTrainIds.png``.

Usage:
    python tools/dataset_converters/coco_object.py data/coco_stuff164k [--split val2017] [--nproc 8]

Things (trainIds 0..79) become 1..80; stuff and unlabeled become 0 (background, ignored by
COCOObjectDataset's reduce_zero_label). Maps are written beside the inputs.
"""
import argparse
import os

from coseg_mmseg.datasets.converters import convert_coco_object
from coseg_tools.cli import UserError, add_debug_argument, run_tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('coco_stuff_root', help='data/coco_stuff164k')
    parser.add_argument('--split', default='val2017')
    parser.add_argument('--nproc', type=int, default=1)
    add_debug_argument(parser)
    args = parser.parse_args()
    folder = os.path.join(args.coco_stuff_root, 'annotations', args.split)
    if not os.path.isdir(folder):
        raise UserError(f"folder '{folder}' does not exist: give the COCO-Stuff-164k root "
                        f"(holding annotations/{args.split}/*_labelTrainIds.png, made by mmseg's "
                        f'coco_stuff164k.py converter; docs/datasets.md)')
    try:
        count = convert_coco_object(folder, folder, nproc=args.nproc)
    except ValueError as exc:  # names the label map that cannot be read
        raise UserError(f'{exc}; re-create it with mmseg\'s coco_stuff164k.py converter') \
            from exc
    print(f'wrote {count} COCO-Object maps to {folder}')


if __name__ == '__main__':
    run_tool(main)
