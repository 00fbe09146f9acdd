"""Evaluate one model on every zero-shot benchmark and write the results table.

Usage:
    python tools/zero_shot_eval.py [CHECKPOINT] --model {prefix,xatten,no-train}
        [--data-root DIR] [--work-dir DIR] [--benchmarks KEY ...] [--model-config FILE]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch}]
    torchrun --nproc_per_node 4 tools/zero_shot_eval.py CHECKPOINT --model prefix \
        --launcher pytorch

Runs ``configs/coseg/zero-shot/coseg_<model>_<benchmark>.py`` for VOC-20, PC-59, PC-459,
A-150, A-847 and COCO-Object, each through mmengine's Runner as tools/test.py does, and writes
``results.json`` and ``results.md`` (the README's results table, published rows beside it) to the
work dir. A benchmark whose data is not on disk is marked "missing" with the section of
docs/datasets.md that prepares it; the others still run. The no-training baseline needs no
CHECKPOINT (its weights are the pretrained CLIP and CLIPSeg the config names).
"""
import argparse
import copy
import json
import os
import os.path as osp
from typing import Dict, NamedTuple, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log

import coseg_mmseg  # noqa: F401  (registers the components)
from coseg_mmseg.utils import write_atomically
from coseg_tools.cli import UserError, add_debug_argument, run_tool
from coseg_tools.cpu_heap import retain_freed_memory
from coseg_tools.data_check import check_data_roots
from coseg_tools.dist import finish_distributed, prepare_distributed
from coseg_tools.evaluation import as_test_config, run_test
from coseg_tools.tool_config import load_config, load_tool_config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODELS = {'prefix': 'CoSeg-Prefix', 'xatten': 'CoSeg-Xatten', 'no-train': 'CoSeg no-training'}


class Benchmark(NamedTuple):
    key: str  # the config name's suffix: coseg_<model>_<key>.py
    name: str  # the table's column
    docs: str  # how to prepare it: docs/datasets.md#<anchor>


BENCHMARKS = (
    Benchmark('voc20', 'VOC-20', 'pascal-voc-2012-zero-shot-test-20-classes'),
    Benchmark('pc59', 'PC-59', 'pascal-context-59-zero-shot-test'),
    Benchmark('pc459', 'PC-459', 'pascal-context-459-zero-shot-test'),
    Benchmark('ade150', 'A-150', 'ade20k-150-zero-shot-test'),
    Benchmark('ade847', 'A-847', 'ade20k-847-zero-shot-test'),
    Benchmark('coco-object', 'COCO-Object', 'coco-object-zero-shot-test-80-classes'),
)

# Published mIoU (%), ViT-B/16 trained on COCO-Stuff, each paper's own evaluation: SAN (Xu et
# al. 2023), CAT-Seg (Cho et al. 2024), EBSeg (Shan et al. 2024) and CoSeg's Table 1 (whose
# protocol for PC-459 is not stated precisely; see the README). Absent: not reported.
PUBLISHED = (
    ('SAN', dict(voc20=94.0, pc59=54.1, pc459=16.7, ade150=27.5, ade847=10.1)),
    ('CAT-Seg (B)', dict(voc20=94.6, pc59=57.5, pc459=19.0, ade150=31.8, ade847=12.0)),
    ('EBSeg (B)', dict(ade150=30.0, ade847=11.1)),
    ('CoSeg-Prefix (paper)', {'voc20': 65.5, 'pc59': 52.7, 'pc459': 45.5, 'coco-object': 50.0}),
    ('CoSeg-Xatten (paper)', {'voc20': 67.1, 'pc59': 54.2, 'pc459': 44.6, 'coco-object': 49.3}),
    ('CoSeg no-training (paper)',
     {'voc20': 61.1, 'pc59': 31.2, 'pc459': 24.9, 'coco-object': 38.9}),
)

# What a benchmark config sets on the model, kept when --model-config replaces the model.
BENCHMARK_MODEL_KEYS = ('test_vocabulary', 'data_preprocessor.seg_pad_val',
                        'decode_head.ignore_index')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint trained on COCO-Stuff; omitted (or "none") for '
                             '--model no-train')
    parser.add_argument('--model', required=True, choices=sorted(MODELS))
    parser.add_argument('--data-root', help='folder holding the datasets in the layouts of '
                                            'docs/datasets.md, in place of the configs\' data/')
    parser.add_argument('--work-dir', help='where results.json, results.md and each benchmark\'s '
                                           'logs go (default: work_dirs/zero_shot_<model>)')
    parser.add_argument('--benchmarks', nargs='+', choices=[b.key for b in BENCHMARKS],
                        default=[b.key for b in BENCHMARKS], help='a subset (default: all)')
    parser.add_argument('--model-config',
                        help='a config whose model replaces the zero-shot configs\' (another '
                             'backbone, a smaller model); each benchmark keeps its own '
                             + ', '.join(f'model.{k}' for k in BENCHMARK_MODEL_KEYS))
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override keys of every benchmark\'s config, e.g. '
                             'test_dataloader.num_workers=2')
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none',
                        help='pytorch: one process per GPU (or CPU) under torchrun')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if args.checkpoint in ('none', 'None'):
        args.checkpoint = None
    if args.checkpoint is None and args.model != 'no-train':
        parser.error(f'--model {args.model} needs a CHECKPOINT (trained with '
                     f'configs/coseg/coseg_{args.model}_cocostuff.py)')
    if args.checkpoint is not None and not osp.isfile(args.checkpoint):
        parser.error(f'checkpoint {args.checkpoint!r} does not exist')
    args.work_dir = args.work_dir or osp.join('work_dirs', f'zero_shot_{args.model}')
    return args


def _get(cfg: dict, dotted: str):
    for part in dotted.split('.'):
        if not isinstance(cfg, dict) or part not in cfg:
            return None
        cfg = cfg[part]
    return cfg


def replace_model(cfg: Config, model_cfg: Config) -> None:
    """Put ``model_cfg.model`` in place of ``cfg.model``, keeping the benchmark's own keys; the
    baseline's ``CLIPRankView`` follows the new model's ``rank_size``."""
    if 'model' not in model_cfg:
        raise UserError(f'--model-config {model_cfg.filename!r} defines no model: give a '
                        f'config with a model dict (e.g. a training config)')
    kept = {f'model.{k}': _get(cfg.model, k) for k in BENCHMARK_MODEL_KEYS}
    cfg.model = copy.deepcopy(model_cfg.model)
    cfg.merge_from_dict({k: v for k, v in kept.items() if v is not None})
    # The baseline's ranking view is made at the model's rank_size (CLIPRankView).
    if cfg.model.get('rank_size') is not None:
        for step in cfg.test_dataloader.dataset.pipeline:
            if step.get('type') == 'CLIPRankView':
                step['size'] = cfg.model.rank_size


def benchmark_config(args: argparse.Namespace, bench: Benchmark,
                     model_cfg: Optional[Config]) -> Config:
    """The benchmark's zero-shot config with the command line's changes, ready for a test."""
    path = osp.join(REPO, 'configs', 'coseg', 'zero-shot', f'coseg_{args.model}_{bench.key}.py')
    cfg = load_tool_config(path, launcher=args.launcher, cfg_options=None,
                           work_dir=osp.join(args.work_dir, bench.key))
    if model_cfg is not None:
        replace_model(cfg, model_cfg)
    as_test_config(cfg)
    if args.data_root is not None:
        dataset = cfg.test_dataloader.dataset
        relative = osp.relpath(dataset.data_root, 'data')
        if relative.startswith('..'):
            raise UserError(f'{path}: test_dataloader.dataset.data_root={dataset.data_root!r} '
                             f'is not under data/; set it with --cfg-options instead of '
                             f'--data-root')
        dataset.data_root = osp.join(args.data_root, relative)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def cell(result: dict) -> str:
    if result['status'] == 'ok':
        return f"{result['metrics']['mIoU']:.1f}"
    if result['status'] == 'missing':
        return f"missing (how to prepare: {result['prepare']})"
    return 'not run'


def markdown_table(model: str, checkpoint: Optional[str], results: Dict[str, dict]) -> str:
    """The README's results table: this run's row, then the published rows."""
    lines = ['| model | ' + ' | '.join(b.name for b in BENCHMARKS) + ' |',
             '|---' * (len(BENCHMARKS) + 1) + '|']
    weights = osp.basename(checkpoint) if checkpoint else 'pretrained CLIP + CLIPSeg'
    lines.append(f'| {MODELS[model]} (this run: {weights}) | '
                 + ' | '.join(cell(results.get(b.key, dict(status='skipped')))
                              for b in BENCHMARKS) + ' |')
    for name, scores in PUBLISHED:
        lines.append(f'| {name} | ' + ' | '.join(
            f'{scores[b.key]:.1f}' if b.key in scores else '-' for b in BENCHMARKS) + ' |')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    rank = int(os.environ.get('RANK', 0)) if args.launcher != 'none' else 0
    model_cfg = load_config(args.model_config) if args.model_config else None
    if not torch.cuda.is_available():
        retain_freed_memory()  # on CPU, steps reuse each other's pages (coseg_tools/cpu_heap.py)
    results: Dict[str, dict] = {}
    wrapper = None  # the DDP wrapper the first distributed run was given, for the others
    for bench in (b for b in BENCHMARKS if b.key in args.benchmarks):
        cfg = benchmark_config(args, bench, model_cfg)
        config = osp.relpath(cfg.filename, REPO)
        try:
            check_data_roots(cfg, loaders=('test_dataloader', ))
        except FileNotFoundError as exc:
            results[bench.key] = dict(name=bench.name, config=config, status='missing',
                                      prepare=f'docs/datasets.md#{bench.docs}', error=str(exc))
            print_log(f'{bench.name}: data missing, skipped: {exc}', logger='current')
            continue
        prepare_distributed(cfg, args.launcher)  # initialises the process group once
        if wrapper is None:
            wrapper = cfg.get('model_wrapper_cfg')
        elif cfg.get('model_wrapper_cfg') is None:
            cfg.model_wrapper_cfg = copy.deepcopy(wrapper)
        metrics = run_test(cfg, args.checkpoint, config)
        results[bench.key] = dict(name=bench.name, config=config, status='ok',
                                  metrics={k: float(v) for k, v in metrics.items()})
        if rank == 0:  # after each benchmark: a later failure keeps what is done
            write_results(args, results)
    if rank == 0:
        table = write_results(args, results)
        print(table, flush=True)
        print(f"wrote {osp.join(args.work_dir, 'results.json')} and results.md", flush=True)
    finish_distributed()


def write_results(args: argparse.Namespace, results: Dict[str, dict]) -> str:
    """Write ``results.json`` and ``results.md`` to the work dir; return the table."""
    table = markdown_table(args.model, args.checkpoint, results)
    report = dict(model=args.model, checkpoint=args.checkpoint, metric='mIoU (%)',
                  benchmarks=results,
                  published={name: scores for name, scores in PUBLISHED})
    paths = [osp.join(args.work_dir, 'results.json'), osp.join(args.work_dir, 'results.md')]
    write_atomically((json.dumps(report, indent=2) + '\n').encode(), paths[0])
    write_atomically(
        ('Zero-shot mIoU (%) of this run beside the published figures (ViT-B/16 trained on '
         'COCO-Stuff, each paper\'s own evaluation; "-": not reported).\n\n' + table).encode(),
        paths[1])
    return table


if __name__ == '__main__':
    run_tool(main)
