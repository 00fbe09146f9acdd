"""Plot the number of classes per image of a dataset config and print the k / N it suggests.

The paper's Figure 6: k (no-training top-k) and N (coexistence tokens) are chosen as the mean
plus two standard deviations of the classes per image.

Usage:
    python tools/analysis/class_count_distribution.py CONFIG [--split train] [--out counts.png]
"""
import argparse

from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import coseg_mmseg  # noqa: F401  (registers datasets and transforms)
from coseg_tools.class_counts import classes_per_image, suggest_k
from coseg_tools.cli import add_debug_argument, run_tool
from coseg_tools.data_check import check_data_roots
from coseg_tools.tool_config import check_cfg_options, load_config


def plot(counts, stats: dict, title: str, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(counts, bins=[b - 0.5 for b in range(0, max(counts) + 2)], color='#4c72b0',
            edgecolor='white')  # one bar per count, centred on it
    ax.axvline(stats['k'], color='#c44e52', linestyle='--',
               label=f'mean + 2 std -> k = {stats["k"]}')
    ax.set_xlabel('classes per image')
    ax.set_ylabel('images')
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--out', default='class_counts.png', help='figure path')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_debug_argument(parser)
    args = parser.parse_args()
    cfg = load_config(args.config)
    if args.cfg_options:
        check_cfg_options(cfg, args.cfg_options, args.config)
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader = f'{args.split}_dataloader'
    check_data_roots(cfg, loaders=(loader, ))
    dataset = DATASETS.build(cfg[loader].dataset)
    counts = classes_per_image(dataset)
    stats = suggest_k(counts)
    for key, value in stats.items():
        print(f'{key}: {value:.2f}' if isinstance(value, float) else f'{key}: {value}')
    plot(counts, stats, f'{type(dataset).__name__} ({args.split})', args.out)
    print(f'figure: {args.out}')


if __name__ == '__main__':
    run_tool(main)
