"""tools/train.py -> tools/test.py end to end on the tiny config, and their failure modes."""
import os
import re

import pytest

from coseg_tools.generators import make_tiny_assets
from tests.helpers import REPO, TINY_CONFIG, read_scalars, run_tool

pytestmark = pytest.mark.slow  # starts the tools in subprocesses


def test_tiny_train_then_test(tmp_path):
    make_tiny_assets(str(tmp_path / 'data' / 'tiny'))
    train = run_tool('train.py', TINY_CONFIG, '--work-dir', 'wd', cwd=str(tmp_path))
    assert train.returncode == 0, train.stdout[-4000:]
    records = read_scalars(str(tmp_path / 'wd'))
    losses = [r['loss'] for r in records if 'loss' in r]
    assert len(losses) >= 10
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < 0.5 * first, losses
    val_miou = [r['mIoU'] for r in records if 'mIoU' in r][-1]

    checkpoint = str(tmp_path / 'wd' / 'iter_300.pth')
    assert os.path.isfile(checkpoint)
    test = run_tool('test.py', TINY_CONFIG, checkpoint, '--work-dir', 'wd_test',
                    cwd=str(tmp_path))
    assert test.returncode == 0, test.stdout[-4000:]
    match = re.search(r'Iter\(test\).*mIoU: ([\d.]+)', test.stdout)
    assert match, test.stdout[-2000:]
    # The checkpoint reloads into the same model: the test run reproduces the last validation.
    assert float(match[1]) == round(val_miou, 2)
    assert float(match[1]) > 0  # the trained slots name some classes right


@pytest.mark.parametrize('name', ['coseg_xatten_tiny_cocostuff',
                                  'coseg_prefix_tiny-vit-mmseg_cocostuff',
                                  'coseg_prefix_tiny-r18_cocostuff'])
def test_other_necks_and_backbones_train_and_test(tmp_path, name):
    make_tiny_assets(str(tmp_path / 'data' / 'tiny'))
    config = os.path.join(REPO, 'configs/tiny', name + '.py')
    short = ['--cfg-options', 'train_cfg.max_iters=40', 'train_cfg.val_interval=40',
             'default_hooks.checkpoint.interval=40']
    train = run_tool('train.py', config, '--work-dir', 'wd', *short, cwd=str(tmp_path))
    assert train.returncode == 0, train.stdout[-4000:]
    losses = [r['loss'] for r in read_scalars(str(tmp_path / 'wd')) if 'loss' in r]
    assert sum(losses[-2:]) < 0.8 * sum(losses[:2]), losses
    test = run_tool('test.py', config, str(tmp_path / 'wd' / 'iter_40.pth'), '--work-dir', 'wdt',
                    cwd=str(tmp_path))
    assert test.returncode == 0, test.stdout[-4000:]
    assert re.search(r'Iter\(test\) \[8/8\].*mIoU: [\d.]+', test.stdout)


def test_no_train_baseline_runs_under_tools_test_without_checkpoint(tmp_path):
    make_tiny_assets(str(tmp_path / 'data' / 'tiny'))
    config = os.path.join(REPO, 'configs/tiny/coseg_no-train_tiny_cocostuff.py')
    result = run_tool('test.py', config, '--work-dir', 'wd', cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout[-4000:]
    assert re.search(r'Iter\(test\) \[8/8\].*mIoU: [\d.]+', result.stdout)
