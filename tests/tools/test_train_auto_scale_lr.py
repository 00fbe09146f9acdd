"""tools/train.py --auto-scale-lr: the LR follows the real total batch over the paper's 32."""
import re

import pytest

from coseg_tools.generators import make_tiny_assets
from tests.helpers import TINY_CONFIG, read_scalars, run_tool

pytestmark = pytest.mark.slow  # starts the tools in subprocesses

# One step, no validation, the LR logged at it.
ONE_STEP = ['--cfg-options', 'train_cfg.max_iters=1', 'val_cfg=None', 'val_dataloader=None',
            'val_evaluator=None', 'default_hooks.logger.interval=1']


def test_auto_scale_lr_scales_to_the_real_total_batch(tmp_path):
    """The tiny config: LR 2e-3 for the paper's total batch 32 (auto_scale_lr inherited from
    the schedule), here 4 images x 1 process: the LR becomes 2e-3 x 4 / 32."""
    make_tiny_assets(str(tmp_path / 'data' / 'tiny'))
    train = run_tool('train.py', TINY_CONFIG, '--work-dir', 'wd', '--auto-scale-lr', *ONE_STEP,
                     cwd=str(tmp_path), timeout=600)
    assert train.returncode == 0, train.stdout[-4000:]
    message = re.search(r'current batch size is (\d+)\. Scaling the original LR by (\d+\.\d+)',
                        train.stdout)
    assert message and message.groups() == ('4', '0.125'), train.stdout[-3000:]
    lr = [r['lr'] for r in read_scalars(str(tmp_path / 'wd')) if 'lr' in r][0]
    assert lr == pytest.approx(2e-3 * 4 / 32, rel=1e-3)  # first step: the cosine is still ~1
