"""Regression guard: CoSeg learns the convergence benchmark through tools/train.py and test.py.

A short version of ``tools/benchmarks/benchmark_convergence.py``: fewer scenes (240 / 30 + 3
crowded) and iterations (300) than the benchmark, with the set-matching config, the data
generator and the text tower of the benchmark. The bounds sit between this run and the same run
broken on purpose (the paper's area-ranked targets, no mask loss, no naming loss): the values
measured and their commands are in docs/benchmarks/convergence_guard_cpu.txt, with the margin
each bound keeps on either side (its last section). What each bound separates:

- mIoU: the working run from all three broken ones.
- classes found (mean over the 12 classes): from the area targets and the missing naming loss;
  without the mask loss the slots still find their classes: that run is the mIoU bound's.
- crowded scenes, classes named per scene: from the area targets and the missing naming loss
  (the missing mask loss is not separated).

Not checked: classes predicted but absent from every label (spurious), since the held-out
scenes hold every class (asserted below) it is 0 by construction; and at most 8 named, which
the 8 slots make true by construction.
"""
import json
import os

import numpy as np
import pytest

from coseg_tools.benchmarking import read_test_metrics
from coseg_tools.generators.convergence import CONVERGENCE_NAMES, make_convergence_assets
from tests.helpers import REPO, run_tool

CONFIG = os.path.join(REPO,
                      'configs/coseg/convergence/coseg_prefix_set-matching_convergence.py')
ITERS = 300
SHORT = ['--cfg-options', f'train_cfg.max_iters={ITERS}', f'train_cfg.val_interval={ITERS}',
         f'param_scheduler.0.end={ITERS}', f'default_hooks.checkpoint.interval={ITERS}',
         'default_hooks.logger.interval=50', 'randomness.seed=0']
MIOU_BOUND = 33.0
FOUND_BOUND = 57.0
CROWDED_NAMED_BOUND = 4.0


@pytest.fixture(scope='module')
def benchmark_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('convergence')
    make_convergence_assets(str(root / 'data' / 'convergence'), num_train=240, num_val=30)
    return root


def load_tool():
    """tools/benchmarks/benchmark_convergence.py as a module."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'benchmark_convergence', os.path.join(REPO, 'tools/benchmarks/benchmark_convergence.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


@pytest.mark.slow
def test_short_convergence_run_learns(benchmark_root):
    """Train ITERS iterations with tools/train.py, test the checkpoint with tools/test.py."""
    train = run_tool('train.py', CONFIG, '--work-dir', 'short', *SHORT, cwd=str(benchmark_root))
    assert train.returncode == 0, train.stdout[-4000:]
    tool = load_tool()
    test = run_tool('test.py', CONFIG, f'short/iter_{ITERS}.pth', '--work-dir', 'short_test',
                    '--cfg-options', tool.TEST_METRIC, cwd=str(benchmark_root))
    assert test.returncode == 0, test.stdout[-4000:]
    scores = tool.scores(read_test_metrics(str(benchmark_root / 'short_test')))
    assert scores['miou'] >= MIOU_BOUND, scores
    # Per class, how often a slot names it where it is: low with broken targets or naming.
    held_out = tool.held_out_slots(str(benchmark_root), CONFIG, f'short/iter_{ITERS}.pth')
    classes = tool.class_report(str(benchmark_root), CONFIG, f'short/iter_{ITERS}.pth',
                                held_out)
    assert [c['name'] for c in classes] == list(CONVERGENCE_NAMES)
    assert all(c['scenes'] > 0 for c in classes), classes  # 33 scenes hold every class
    assert sum(c['found'] for c in classes) / len(classes) >= FOUND_BOUND, classes
    # The 3 crowded held-out scenes hold more classes than the slots: the model names most;
    # broken targets or naming name fewer (docs/benchmarks/convergence_guard_cpu.txt).
    crowded = tool.crowded_summary(held_out[1])
    assert (crowded['slots'], crowded['scenes'], crowded['classes']) == (8, 3, 9.0), crowded
    assert crowded['named'] >= CROWDED_NAMED_BOUND, crowded


def test_every_recipe_has_a_config_per_neck_differing_only_in_its_recipe():
    """The comparison's configs (``--recipes``) exist for both necks and differ from the
    paper's config of their neck only where their recipe says."""
    from mmengine.config import Config
    tool = load_tool()
    assert len(tool.RECIPE_CONFIGS) == 2 * len(tool.RECIPES) == 8
    paper = {neck: Config.fromfile(tool.RECIPE_CONFIGS[neck]) for neck in ('prefix', 'xatten')}
    assert paper['xatten'].model.neck.mode == 'xatten'
    assert paper['prefix'].model.neck.get('mode', 'prefix') == 'prefix'
    for key, path in tool.RECIPE_CONFIGS.items():
        neck = key.split('-')[0]
        cfg, base = Config.fromfile(path), paper[neck]
        head, base_head = cfg.model.decode_head, base.model.decode_head
        if key == 'xatten-authors-recipe':  # the authors' xatten neck learns its positions
            assert cfg.model.neck == dict(base.model.neck, positions='learned')
        else:
            assert cfg.model.neck == base.model.neck, key
        assert cfg.train_cfg.max_iters == base.train_cfg.max_iters, key
        assert (head.channels, head.cond_channels) == (base_head.channels,
                                                        base_head.cond_channels), key
        assert head.train_cfg.assigner.type == (
            'SetMatchingAssigner' if 'set-matching' in key else 'AreaRankedAssigner'), key
        assert head.loss_decode.get('dice_weight', 0.0) == (
            0.18 if 'dice' in key or 'authors' in key else 0.0), key
        assert head.get('inference_rule', 'paper') == ('authors' if 'authors' in key
                                                        else 'paper'), key
        if 'authors' not in key:
            assert cfg.optim_wrapper == base.optim_wrapper, key
            assert cfg.param_scheduler == base.param_scheduler, key
    # The mmseg-backbone rows run through --configs, not in the recipe table.
    assert set(tool.CONFIGS) - set(tool.RECIPE_CONFIGS) == {
        f'prefix-set-matching-{backbone}' for backbone in tool.MMSEG_BACKBONES}
    assert all(os.path.isfile(path) for path in tool.CONFIGS.values())


@pytest.mark.slow
def test_runs_side_by_side_report_their_own_cpu_seconds(tmp_path):
    """With ``--jobs 2`` each run's CPU seconds are its own, not those of the run beside it.

    Each child prints the CPU seconds it used itself (its own ``RUSAGE_SELF``); the tool's
    figure may add only the interpreter's start and exit to that. Counting the run beside it
    (``RUSAGE_CHILDREN``) would add a whole second run's seconds.
    """
    import sys
    from concurrent.futures import ThreadPoolExecutor
    tool = load_tool()
    busy = [sys.executable, '-c',
            'import resource\nx = 0\nfor i in range(6_000_000): x += i\n'
            'u = resource.getrusage(resource.RUSAGE_SELF)\nprint(u.ru_utime + u.ru_stime)']
    logs = [tmp_path / f'{i}' for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        reported = list(pool.map(lambda log: tool.run(busy, str(tmp_path), str(log),
                                                      threads=1)[1], logs))
    own = [float(log.read_text().split()[-1]) for log in logs]
    for tool_cpu, own_cpu in zip(reported, own):
        assert own_cpu <= tool_cpu + 0.01 and tool_cpu - own_cpu < 0.5 * own_cpu, (reported, own)


def test_figures_come_from_the_metrics_file_a_test_writes(tmp_path):
    """The table's figures are what the evaluator returned, read from mmengine's metrics file;
    mIoU as IoUMetric prints it (its float32 percent, stored in the file unrounded)."""
    tool = load_tool()
    stamp = tmp_path / '20261205_070000'
    stamp.mkdir()
    (stamp / '20261205_070000.json').write_text(json.dumps(dict(
        aAcc=90.51000213623047, mIoU=float(np.float32(88.44)), mAcc=92.0,
        present_mIoU=88.44, spurious_classes=1.0, data_time=0.01, time=0.1)) + '\n')
    assert tool.scores(read_test_metrics(str(tmp_path))) == dict(
        miou=88.44, present_miou=88.44, spurious=1)
