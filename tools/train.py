"""Train a segmentor with mmengine's Runner (mmseg's ``tools/train.py`` command line).

Usage:
    python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp] [--auto-scale-lr]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}] [--debug]

A user's mistake (missing config, dataset or image, unknown --cfg-options key) ends with one
``error:`` line and exit status 2; ``--debug`` (or ``COSEG_DEBUG=1``) shows the traceback.
"""
import argparse
import os

import torch
from mmengine.config import DictAction
from mmengine.runner import Runner

import coseg_mmseg  # noqa: F401  (registers the components)
from coseg_tools.cli import UserError, add_debug_argument, run_tool
from coseg_tools.cpu_heap import retain_freed_memory
from coseg_tools.data_check import check_data_roots, explain_data_error
from coseg_tools.dist import finish_distributed, prepare_distributed
from coseg_tools.tool_config import load_tool_config
from coseg_tools.work_dir import check_work_dir


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--resume', action='store_true',
                        help='resume from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help="scale the LR linearly to the real total batch (GPUs x per-GPU "
                             "batch) over the config's auto_scale_lr.base_batch_size")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. train_dataloader.batch_size=4')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_argument(parser)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def check_last_checkpoint(work_dir: str) -> None:
    """Refuse an empty ``last_checkpoint`` file before ``--resume`` reads it (mmengine then
    says ``' can not be found.'``), naming the file."""
    path = os.path.join(work_dir, 'last_checkpoint')
    if os.path.isfile(path):
        with open(path) as f:
            if not f.read().strip():
                raise UserError(f'{path} is empty (a save was interrupted), so --resume has no '
                                f'checkpoint to resume from: write the path of a complete '
                                f'iter_N.pth of {work_dir} into it, or delete it to start over')


def main() -> None:
    args = parse_args()
    cfg = load_tool_config(args.config, launcher=args.launcher, cfg_options=args.cfg_options,
                           work_dir=args.work_dir)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        cfg.auto_scale_lr = dict(cfg.get('auto_scale_lr') or {}, enable=True)
    cfg.resume = args.resume
    check_work_dir(cfg.work_dir)
    if args.resume:
        check_last_checkpoint(cfg.work_dir)
    check_data_roots(cfg, loaders=('train_dataloader', 'val_dataloader'))
    prepare_distributed(cfg, args.launcher)
    if not torch.cuda.is_available():
        retain_freed_memory()  # on CPU, steps reuse each other's pages (coseg_tools/cpu_heap.py)
    runner = Runner.from_cfg(cfg)
    try:
        runner.train()
    except Exception as exc:  # noqa: BLE001  (re-raised unless it is a bad dataset file)
        error = explain_data_error(exc, cfg)
        if error is None:
            raise
        raise error from exc
    finish_distributed()


if __name__ == '__main__':
    run_tool(main)
