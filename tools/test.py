"""Evaluate a checkpoint with mmengine's Runner (mmseg's ``tools/test.py`` command line).

Usage:
    python tools/test.py CONFIG [CHECKPOINT] [--work-dir DIR] [--out DIR] [--show-dir DIR]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}] [--tta]
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

import coseg_mmseg  # noqa: F401  (registers the components)
from coseg_mmseg.utils import (check_data_roots, finish_distributed, load_tool_config,
                               prepare_distributed, retain_freed_memory)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a segmentor')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint file; omitted, the weights named by the config\'s '
                             'init_cfg are loaded (e.g. the no-training baseline)')
    parser.add_argument('--work-dir', help='where the evaluation metrics are saved')
    parser.add_argument('--out', help='folder to save the predicted label maps to')
    parser.add_argument('--show', action='store_true', help='show predictions')
    parser.add_argument('--show-dir', help='folder to save drawn predictions to')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds between --show')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. model.test_cfg.mode=slide')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--tta', action='store_true', help='test-time augmentation')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    """Turn on mmseg's SegVisualizationHook for --show / --show-dir."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise KeyError('--show/--show-dir need default_hooks.visualization in the config')
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir


def load_checkpoint_strictly(runner: Runner, checkpoint: str, config: str) -> None:
    """Load every weight of the model from ``checkpoint``, or fail naming what does not fit.

    mmengine's runner loads non-strictly and only prints mismatches: a checkpoint of another
    architecture would then be evaluated with random weights in its place.
    """
    try:
        runner.load_checkpoint(checkpoint, map_location='cpu', strict=True)
    except RuntimeError as exc:
        details = '; '.join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise ValueError(f'checkpoint {checkpoint!r} does not fit the model of {config}: '
                         f'{details[:1500]}') from None


def main() -> None:
    args = parse_args()
    if args.checkpoint is not None and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} does not exist')
    cfg = load_tool_config(args.config, launcher=args.launcher, cfg_options=args.cfg_options,
                           work_dir=args.work_dir)
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    check_data_roots(cfg, loaders=('test_dataloader', ))
    prepare_distributed(cfg, args.launcher)
    if not torch.cuda.is_available():
        retain_freed_memory()  # on CPU, steps reuse each other's pages (utils/cpu_heap.py)
    runner = Runner.from_cfg(cfg)
    if args.checkpoint is None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        model.init_weights()
    else:
        load_checkpoint_strictly(runner, args.checkpoint, args.config)
    runner.test()
    finish_distributed()


if __name__ == '__main__':
    main()
