"""Generate the open world (issue 24): its tiny CLIP, a seen / unseen split and its scenes.

Usage: python tools/make_open_world_data.py [--out data/open_world] [--clip-seed 0]
    [--split-seed 0] [--unseen-fraction 0.25] [--num-train 600] [--num-val 100] [--force]
    [--clip-steps N]
    [--report]

Writes OUT/clip (a tiny CLIP in HuggingFace format, both towers trained contrastively on
captions of ALL classes), OUT/clip_random_text (the same CLIP with its random text tower),
OUT/scenes/split.json and OUT/scenes/{img_dir,ann_dir}/{train,val_unseen,val_mixed}/*.png
(label values: global class ids, 255 unlabelled). The CLIP depends on --clip-seed only and is
reused when it exists; files made with other arguments are refused unless --force. --report
also writes OUT/clip_report.json: the CLIP's zero-shot accuracy and its dense (MaskCLIP-style)
floor on the scenes, and its text space (nearest other name, additive word model).
"""
import argparse
import json
import os

from coseg_tools.cli import add_debug_argument, run_tool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/open_world')
    parser.add_argument('--clip-seed', type=int, default=0)
    parser.add_argument('--split-seed', type=int, default=0)
    parser.add_argument('--unseen-fraction', type=float, default=0.25)
    parser.add_argument('--num-train', type=int, default=600)
    parser.add_argument('--num-val', type=int, default=100)
    parser.add_argument('--clip-steps', type=int, default=None,
                        help='CLIP pretraining steps (default: the pretraining\'s own, '
                             'coseg_tools/open_world/clip_pretraining.py DEFAULTS)')
    parser.add_argument('--force', action='store_true',
                        help='rebuild the CLIP or scenes made with other arguments')
    parser.add_argument('--report', action='store_true',
                        help='write OUT/clip_report.json (zero-shot accuracy, dense floor, '
                             'text space)')
    add_debug_argument(parser)
    args = parser.parse_args()
    if args.clip_steps is not None and args.clip_steps < 1:
        parser.error(f'--clip-steps must be at least 1, got {args.clip_steps}')
    from coseg_tools.open_world.assets import make_open_world
    paths = make_open_world(args.out, clip_seed=args.clip_seed, split_seed=args.split_seed,
                            unseen_fraction=args.unseen_fraction, num_train=args.num_train,
                            num_val=args.num_val, force=args.force,
                            clip_args=None if args.clip_steps is None else
                            dict(steps=args.clip_steps))
    for name, path in paths.items():
        print(f'{name}: {path}')
    if args.report:
        from coseg_tools.open_world.clip_report import format_report, write_report
        report = write_report(paths['clip'], paths['scenes'],
                              os.path.join(args.out, 'clip_report.json'))
        print('\n'.join(format_report(report)))


if __name__ == '__main__':
    run_tool(main)
