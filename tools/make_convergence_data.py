"""Generate the convergence benchmark: scenes in COCO-Stuff-164k's layout and its tiny CLIP.

Usage: python tools/make_convergence_data.py [--out data/convergence] [--seed 0]
    [--num-train 600] [--num-val 100] [--num-crowded-train 0]

Writes OUT/coco_stuff164k (images/{train2017,val2017}/*.jpg and
annotations/{train2017,val2017}/*_labelTrainIds.png, COCO-Stuff trainIds of 12 classes; after
the NUM_VAL validation scenes, NUM_VAL / 10 crowded ones holding more classes than the
configs' slots),
OUT/clip (a tiny CLIP in HuggingFace format whose text tower was trained to tell the class
prompts apart) and OUT/clip_random_text (the same CLIP with its random text tower). What
exists is kept (scenes written with other counts are refused). The configs in configs/coseg/convergence/ read data/convergence/.
"""
import argparse

from coseg_tools.cli import add_debug_argument, run_tool
from coseg_tools.generators.convergence import make_convergence_assets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/convergence')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train', type=int, default=600)
    parser.add_argument('--num-val', type=int, default=100)
    parser.add_argument('--num-crowded-train', type=int, default=0,
                        help='crowded scenes (more classes than slots) after the training ones')
    add_debug_argument(parser)
    args = parser.parse_args()
    paths = make_convergence_assets(args.out, seed=args.seed, num_train=args.num_train,
                                    num_val=args.num_val,
                                    num_crowded_train=args.num_crowded_train)
    for name, path in paths.items():
        print(f'{name}: {path}')


if __name__ == '__main__':
    run_tool(main)
