"""tools/train.py on the tiny model with the authors' recipe (docs/recipes.md)."""
import os
import re

import pytest

from coseg_tools.generators import make_tiny_assets
from tests.helpers import REPO, read_scalars, run_tool

pytestmark = pytest.mark.slow  # starts the tools in subprocesses

AUTHORS_TINY = os.path.join(REPO, 'configs/tiny/coseg_prefix_authors-recipe_tiny_cocostuff.py')


def test_authors_recipe_trains_and_validates(tmp_path):
    """12 iterations (warm-up 2) with the Dice term, the vocabulary cross-entropy, gradient
    clipping and FiLM at every block: the loss goes down; validation runs the authors'
    inference rule through mmseg's IoUMetric."""
    make_tiny_assets(str(tmp_path / 'data' / 'tiny'))
    short = ['--cfg-options', 'train_cfg.max_iters=12', 'train_cfg.val_interval=12',
             'default_hooks.checkpoint.interval=12', 'default_hooks.logger.interval=1',
             'param_scheduler.0.end=3', 'param_scheduler.1.end=12',
             'param_scheduler.1.T_max=12']
    train = run_tool('train.py', AUTHORS_TINY, '--work-dir', 'wd', *short, cwd=str(tmp_path))
    assert train.returncode == 0, train.stdout[-4000:]
    records = [r for r in read_scalars(str(tmp_path / 'wd')) if 'loss' in r]
    assert len(records) == 12
    keys = ('loss_coseg_mask', 'loss_coseg_dice', 'loss_coseg_lang')
    assert all(f'decode.{k}' in records[0] for k in keys), records[0]
    first, last = records[:3], records[-3:]
    mean = lambda rs, key: sum(r[key] for r in rs) / len(rs)  # noqa: E731
    assert mean(last, 'loss') < 0.95 * mean(first, 'loss'), [r['loss'] for r in records]
    masks = [r['decode.loss_coseg_mask'] + r['decode.loss_coseg_dice'] for r in records]
    assert masks[-1] < masks[0], masks
    assert all(r['grad_norm'] > 0 for r in records)
    # The warm-up starts at 1e-3 of the learning rate: 2e-3 * 1e-3 * cosine(0) at iteration 1.
    assert abs(records[0]['lr'] - 2e-6) < 1e-9, records[0]['lr']
    assert re.search(r'Iter\(val\) \[8/8\].*mIoU: [\d.]+', train.stdout), train.stdout[-2000:]
