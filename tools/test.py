"""Evaluate a checkpoint with mmengine's Runner (mmseg's ``tools/test.py`` command line).

Usage:
    python tools/test.py CONFIG [CHECKPOINT] [--work-dir DIR] [--out DIR] [--show-dir DIR]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}] [--tta] [--debug]

A user's mistake (missing config, dataset, image or checkpoint, a checkpoint that does not fit,
an unknown --cfg-options key) ends with one ``error:`` line and exit status 2; ``--debug`` (or
``COSEG_DEBUG=1``) shows the traceback.
"""
import argparse
import os

import torch
from mmengine.config import Config, DictAction

import coseg_mmseg  # noqa: F401  (registers the components)
from coseg_tools.checkpoint_check import check_checkpoint_file
from coseg_tools.cli import UserError, add_debug_argument, run_tool
from coseg_tools.cpu_heap import retain_freed_memory
from coseg_tools.data_check import check_data_roots
from coseg_tools.dist import finish_distributed, prepare_distributed
from coseg_tools.evaluation import as_test_config, run_test
from coseg_tools.tool_config import load_tool_config
from coseg_tools.work_dir import check_work_dir


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
    add_debug_argument(parser)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    """Turn on mmseg's SegVisualizationHook for --show / --show-dir."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise UserError('--show/--show-dir need default_hooks.visualization in the config, '
                        "e.g. dict(type='SegVisualizationHook')")
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir


def enable_tta(cfg: Config, config: str) -> None:
    """Evaluate through the config's ``tta_pipeline`` and a TTA model that keeps "no label".

    mmseg's default ``tta_model`` (``SegTTAModel``, from its default_runtime) softmaxes CoSeg's
    class scores and drops the no-label threshold: it is replaced by ``CoSegTTAModel``. Another
    ``tta_model`` type set by the config is kept.

    Raises:
        UserError: The config has no ``tta_pipeline``.
    """
    if not cfg.get('tta_pipeline'):
        raise UserError(f'--tta: {config} has no tta_pipeline; add one (as mmseg\'s dataset '
                        f'bases do, e.g. configs/_base_/datasets/coco_object.py) or run '
                        f'without --tta')
    tta_model = dict(cfg.get('tta_model') or {})
    if tta_model.get('type', 'SegTTAModel') in ('SegTTAModel', 'mmseg.SegTTAModel'):
        tta_model['type'] = 'CoSegTTAModel'
    tta_model['module'] = cfg.model
    cfg.tta_model = tta_model
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.model = cfg.tta_model


def main() -> None:
    args = parse_args()
    cfg = load_tool_config(args.config, launcher=args.launcher, cfg_options=args.cfg_options,
                           work_dir=args.work_dir)
    if args.checkpoint is not None:
        check_checkpoint_file(args.checkpoint)
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        enable_tta(cfg, args.config)
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    as_test_config(cfg)  # the test loop alone: zero-shot configs carry mmseg's train loaders
    check_work_dir(cfg.work_dir)
    check_data_roots(cfg, loaders=('test_dataloader', ))
    prepare_distributed(cfg, args.launcher)
    if not torch.cuda.is_available():
        retain_freed_memory()  # on CPU, steps reuse each other's pages (coseg_tools/cpu_heap.py)
    run_test(cfg, args.checkpoint, args.config)
    finish_distributed()


if __name__ == '__main__':
    run_tool(main)
