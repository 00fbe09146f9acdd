"""Build the tiny CLIP (HuggingFace format) and tiny COCO-Stuff data used by the demo config.

Usage: python tools/make_tiny_assets.py [--out data/tiny]
"""
import argparse
import os

from coseg_tools.cli import UserError, add_debug_argument, run_tool
from coseg_tools.generators import make_tiny_assets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/tiny', help='output folder (default: data/tiny)')
    parser.add_argument('--seed', type=int, default=0)
    add_debug_argument(parser)
    args = parser.parse_args()
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UserError(f'--out {args.out!r} is a file: give a folder (created if missing)')
    for name, path in make_tiny_assets(args.out, seed=args.seed).items():
        print(f'{name}: {path}')


if __name__ == '__main__':
    run_tool(main)
