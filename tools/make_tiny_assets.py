"""Build the tiny CLIP (HuggingFace format) and tiny COCO-Stuff data used by the demo config.

Usage: python tools/make_tiny_assets.py [--out data/tiny]
"""
import argparse

from coseg_tools.generators import make_tiny_assets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/tiny', help='output folder (default: data/tiny)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    for name, path in make_tiny_assets(args.out, seed=args.seed).items():
        print(f'{name}: {path}')


if __name__ == '__main__':
    main()
