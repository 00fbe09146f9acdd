"""tools/zero_shot_eval.py end to end: six benchmarks in their on-disk layouts, tiny models."""
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
from typing import Dict, Iterable

import numpy as np
import pytest

from coseg_tools.generators import make_tiny_assets, write_segmentation_samples
from tests.helpers import REPO, run_tool

pytestmark = pytest.mark.slow  # starts the tools in subprocesses

TINY = {'prefix': 'configs/tiny/coseg_prefix_tiny_cocostuff.py',
        'no-train': 'configs/tiny/coseg_no-train_tiny_cocostuff.py'}
# Fast: no loader workers, small inputs (the tiny CLIP's 64 px; pipeline step 1 is the Resize).
FAST = ['--cfg-options', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False', 'test_dataloader.dataset.pipeline.1.scale=(64,64)']
# The baseline's pipeline resizes in its third step (after CLIPRankView).
FAST_NO_TRAIN = [*FAST[:-1], 'test_dataloader.dataset.pipeline.2.scale=(64,64)']
# A-847 trainIds drawn in the generated maps: two of them need 16 bits.
ADE847_DRAWN = (0, 12, 300, 846)


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'zero_shot_eval', os.path.join(REPO, 'tools', 'zero_shot_eval.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# VOC's maps are palette PNGs: the pixel values are the indices.
VOC_PALETTE = [v for i in range(256) for v in (i, 255 - i, (7 * i) % 256)]


def _samples(maps, prefix: str = ''):
    """(stem, noisy image (H, W, 3), label) for each (stem, label) of ``maps``."""
    for stem, label in maps:
        rng = np.random.default_rng(len(prefix + stem) + int(label.sum()) % 1000)
        yield prefix + stem, rng.integers(0, 255, (*label.shape, 3), dtype=np.uint8), label


def _maps(ids: Iterable[int], dtype, background: int, count: int = 2):
    """``count`` 24 x 32 maps holding ``background`` and blocks of ``ids``."""
    ids = list(ids)
    for i in range(count):
        label = np.full((24, 32), background, dtype=dtype)
        for j, cls in enumerate(ids):
            x = (8 * j + 4 * i) % 28
            label[4 + 2 * (j % 3):20, x:x + 6] = cls
        yield f'{i:06d}', label


def _voc_maps():
    for stem, label in _maps((1, 15, 20), np.uint8, 0):
        label[0] = 255  # the object borders VOC leaves unlabeled
        yield stem, label


def make_benchmarks(data: str, keys: Iterable[str]) -> None:
    """Tiny copies of the benchmarks under ``data`` in the layouts of docs/datasets.md."""
    j = os.path.join
    for key in keys:
        if key == 'voc20':
            root = j(data, 'VOCdevkit', 'VOC2012')
            write_segmentation_samples(
                j(root, 'JPEGImages'), j(root, 'SegmentationClass'), _samples(_voc_maps()),
                palette=VOC_PALETTE, split_file=j(root, 'ImageSets', 'Segmentation', 'val.txt'))
        elif key in ('pc59', 'pc459'):
            root = j(data, 'VOCdevkit', 'VOC2010')
            maps = (_maps((1, 30, 59), np.uint8, 0) if key == 'pc59' else
                    _maps((0, 255, 256, 458), np.uint16, 65535))
            folder = 'SegmentationClassContext' if key == 'pc59' else \
                'SegmentationClassContext459'
            write_segmentation_samples(
                j(root, 'JPEGImages'), j(root, folder), _samples(maps),
                split_file=j(root, 'ImageSets', 'SegmentationContext', 'val.txt'))
        elif key in ('ade150', 'ade847'):
            root = j(data, 'ade', 'ADEChallengeData2016' if key == 'ade150' else 'ADE20K_847')
            maps = (_maps((1, 13, 150), np.uint8, 0) if key == 'ade150' else
                    _maps(ADE847_DRAWN, np.uint16, 65535))
            write_segmentation_samples(j(root, 'images', 'validation'),
                                       j(root, 'annotations', 'validation'),
                                       _samples(maps, 'ADE_val_'))
        elif key == 'coco-object':
            root = j(data, 'coco_stuff164k')
            write_segmentation_samples(j(root, 'images', 'val2017'),
                                       j(root, 'annotations', 'val2017'),
                                       _samples(_maps((1, 3, 80), np.uint8, 0)),
                                       seg_map_suffix='_objectTrainIds.png')
        else:
            raise KeyError(key)


def tiny_checkpoint(model: str, path: str) -> str:
    """The tiny model's weights (random, all of them) saved as a checkpoint."""
    import torch
    from mmengine.config import Config
    from mmseg.registry import MODELS
    cfg = Config.fromfile(os.path.join(REPO, TINY[model]))
    torch.manual_seed(0)
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict(), meta=dict()), path)
    return path


def logged_miou(work_dir: str) -> float:
    """The mIoU the Runner logged in ``work_dir``."""
    logs = [os.path.join(r, f) for r, _, fs in os.walk(work_dir) for f in fs if f.endswith('.log')]
    assert len(logs) == 1, logs
    with open(logs[0]) as f:
        match = re.search(r'Iter\(test\).*mIoU: ([\d.]+)', f.read())
    assert match, logs[0]
    return float(match[1])


def class_accuracies(work_dir: str) -> Dict[str, str]:
    """mmseg's per-class table in the log: class name -> Acc (``nan``: not in the ground truth)."""
    logs = [os.path.join(r, f) for r, _, fs in os.walk(work_dir) for f in fs if f.endswith('.log')]
    with open(logs[0]) as f:
        rows = re.findall(r'^\|\s*(.+?)\s*\|\s*([\d.]+|nan)\s*\|\s*([\d.]+|nan)\s*\|$', f.read(),
                          flags=re.M)
    return {name: acc for name, _, acc in rows}


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp('zero_shot')
    make_tiny_assets(str(root / 'data' / 'tiny'))
    return root


def test_prefix_runs_all_six_benchmarks_and_writes_the_table(workspace):
    from coseg_mmseg.datasets import VOCABULARIES
    data = str(workspace / 'bench_all')
    tool = load_tool()
    make_benchmarks(data, [b.key for b in tool.BENCHMARKS])
    checkpoint = tiny_checkpoint('prefix', str(workspace / 'prefix.pth'))
    result = run_tool('zero_shot_eval.py', checkpoint, '--model', 'prefix', '--model-config',
                      os.path.join(REPO, TINY['prefix']), '--data-root', data,
                      '--work-dir', 'wd_prefix', *FAST, cwd=str(workspace))
    assert result.returncode == 0, result.stdout[-4000:]
    with open(workspace / 'wd_prefix' / 'results.json') as f:
        report = json.load(f)
    assert report['model'] == 'prefix' and report['checkpoint'] == checkpoint
    assert list(report['benchmarks']) == ['voc20', 'pc59', 'pc459', 'ade150', 'ade847',
                                          'coco-object']
    for key, entry in report['benchmarks'].items():
        assert entry['status'] == 'ok', (key, entry)
        assert entry['config'] == f'configs/coseg/zero-shot/coseg_prefix_{key}.py'
        # The table holds what each benchmark's Runner logged, each in its own column.
        assert round(entry['metrics']['mIoU'], 2) == logged_miou(str(workspace / 'wd_prefix' /
                                                                      key))
        assert 0 <= entry['metrics']['mIoU'] <= 100
    # A-847 went through the 16-bit path: trainIds 300 and 846 reached the metric as
    # themselves, and the classes not drawn did not.
    acc = class_accuracies(str(workspace / 'wd_prefix' / 'ade847'))
    names = VOCABULARIES['ade20k_847']
    assert len(acc) == 847
    assert all(acc[names[i]] != 'nan' for i in ADE847_DRAWN)
    assert sum(a != 'nan' for a in acc.values()) == len(ADE847_DRAWN)

    table = (workspace / 'wd_prefix' / 'results.md').read_text()
    lines = [line for line in table.splitlines() if line.startswith('|')]
    assert lines[0] == '| model | VOC-20 | PC-59 | PC-459 | A-150 | A-847 | COCO-Object |'
    ours = lines[2].split(' | ')
    assert ours[0] == '| CoSeg-Prefix (this run: prefix.pth)'
    assert ours[4] == f"{report['benchmarks']['ade150']['metrics']['mIoU']:.1f}"
    assert '| SAN | 94.0 | 54.1 | 16.7 | 27.5 | 10.1 | - |' in lines
    assert '| CoSeg-Prefix (paper) | 65.5 | 52.7 | 45.5 | - | - | 50.0 |' in lines
    assert lines[2] in result.stdout  # printed too


def test_every_missing_hint_names_a_section_of_the_datasets_doc():
    with open(os.path.join(REPO, 'docs', 'datasets.md')) as f:
        headings = [line[3:].strip() for line in f if line.startswith('## ')]
    anchors = {re.sub(r'[^a-z0-9 _-]', '', h.lower()).replace(' ', '-') for h in headings}
    tool = load_tool()
    assert {b.docs for b in tool.BENCHMARKS} <= anchors
    for bench in tool.BENCHMARKS:  # and every benchmark has its three configs
        for model in tool.MODELS:
            assert os.path.isfile(os.path.join(
                REPO, 'configs', 'coseg', 'zero-shot', f'coseg_{model}_{bench.key}.py'))


def test_benchmark_config_takes_the_model_and_keeps_the_benchmark():
    """--model-config swaps the architecture; vocabulary and ignore index stay the benchmark's."""
    tool = load_tool()
    args = tool.parse_args(['--model', 'no-train', '--model-config',
                            os.path.join(REPO, TINY['prefix']), '--data-root', '/d',
                            '--cfg-options', 'model.neck.depth=1'])
    bench = {b.key: b for b in tool.BENCHMARKS}
    cfg = tool.benchmark_config(args, bench['ade847'], tool.Config.fromfile(args.model_config))
    assert cfg.model.type == 'CoSeg' and cfg.model.backbone.embed_dims == 64
    assert cfg.model.neck.depth == 1  # --cfg-options come last
    assert cfg.model.test_vocabulary == 'ade20k_847'
    assert cfg.model.decode_head.ignore_index == 65535
    assert cfg.model.data_preprocessor.seg_pad_val == 65535
    assert cfg.test_dataloader.dataset.data_root == '/d/ade/ADE20K_847'
    assert cfg.work_dir == os.path.join('work_dirs', 'zero_shot_no-train', 'ade847')
    # Benchmarks with 8-bit maps leave the model's own ignore index (255).
    cfg = tool.benchmark_config(args, bench['voc20'], tool.Config.fromfile(args.model_config))
    assert cfg.model.test_vocabulary == 'voc20'
    assert cfg.model.data_preprocessor.seg_pad_val == 255
    assert cfg.test_dataloader.dataset.data_root == '/d/VOCdevkit/VOC2012'


def test_trained_models_need_a_checkpoint(capsys):
    tool = load_tool()
    with pytest.raises(SystemExit):
        tool.parse_args(['--model', 'xatten'])
    assert '--model xatten needs a CHECKPOINT' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.parse_args(['nowhere.pth', '--model', 'prefix'])
    assert "checkpoint 'nowhere.pth' does not exist" in capsys.readouterr().err
    assert tool.parse_args(['none', '--model', 'no-train']).checkpoint is None


def free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def test_missing_data_is_marked_and_two_processes_agree(workspace):
    """The no-training baseline without a checkpoint; only VOC-20 and A-847 on disk."""
    data = str(workspace / 'bench_two')
    make_benchmarks(data, ['voc20', 'ade847'])
    args = ['--model', 'no-train', '--model-config', os.path.join(REPO, TINY['no-train']),
            '--data-root', data, '--benchmarks', 'voc20', 'pc459', 'ade150', 'ade847',
            *FAST_NO_TRAIN]
    result = run_tool('zero_shot_eval.py', *args, '--work-dir', 'wd_1', cwd=str(workspace))
    assert result.returncode == 0, result.stdout[-4000:]
    with open(workspace / 'wd_1' / 'results.json') as f:
        benchmarks = json.load(f)['benchmarks']
    assert {k: v['status'] for k, v in benchmarks.items()} == \
        dict(voc20='ok', pc459='missing', ade150='missing', ade847='ok')
    assert benchmarks['pc459']['prepare'] == 'docs/datasets.md#pascal-context-459-zero-shot-test'
    assert os.path.join(data, 'VOCdevkit', 'VOC2010') in benchmarks['pc459']['error']
    row = [line for line in (workspace / 'wd_1' / 'results.md').read_text().splitlines()
           if line.startswith('| CoSeg no-training (this run')][0]
    cells = [c.strip() for c in row.strip('|').split(' | ')]
    assert cells[0] == 'CoSeg no-training (this run: pretrained CLIP + CLIPSeg)'
    assert cells[4] == 'missing (how to prepare: docs/datasets.md#ade20k-150-zero-shot-test)'
    assert cells[1] == f"{benchmarks['voc20']['metrics']['mIoU']:.1f}"
    assert cells[5] == f"{benchmarks['ade847']['metrics']['mIoU']:.1f}"
    assert cells[2] == cells[6] == 'not run'  # not asked for (--benchmarks)

    # The same under torchrun, two processes on CPU (gloo): the same scores, written once.
    env = dict(os.environ, OMP_NUM_THREADS='1')
    double = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         f'--master_port={free_port()}', os.path.join(REPO, 'tools', 'zero_shot_eval.py'),
         *args, '--work-dir', 'wd_2', '--launcher', 'pytorch'],
        cwd=str(workspace), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=600)
    assert double.returncode == 0, double.stdout[-4000:]
    assert double.stdout.count('wrote ') == 1  # rank 0 alone writes
    assert 'Iter(test) [1/1]' in double.stdout  # each process ran one of the two images
    two = json.loads((workspace / 'wd_2' / 'results.json').read_text())['benchmarks']
    assert {k: v['status'] for k, v in two.items()} == {k: v['status'] for k, v in
                                                        benchmarks.items()}
    for key in ('voc20', 'ade847'):
        assert two[key]['metrics'] == benchmarks[key]['metrics']
