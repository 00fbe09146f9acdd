"""coseg_tools.evaluation: a zero-shot config becomes one mmengine's Runner accepts."""
import os

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from coseg_tools.evaluation import as_test_config
from tests.helpers import REPO

CONFIG = os.path.join(REPO, 'configs/coseg/zero-shot/coseg_no-train_pc59.py')


def test_zero_shot_config_alone_is_refused_by_the_runner(tmp_path):
    """Why as_test_config exists: mmseg's dataset base brings a training loader, no loop."""
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(tmp_path)
    with pytest.raises(ValueError, match='train_dataloader, train_cfg, and optim_wrapper'):
        Runner.from_cfg(cfg)


def test_as_test_config_keeps_the_test_parts_only():
    cfg = as_test_config(Config.fromfile(CONFIG))
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler',
                'val_dataloader', 'val_cfg', 'val_evaluator'):
        assert cfg[key] is None, key
    assert cfg.test_cfg == dict(type='TestLoop')
    assert cfg.test_dataloader.dataset.type == 'PascalContextDataset59'
    assert cfg.test_evaluator.type == 'IoUMetric'
    assert cfg.model.test_vocabulary == 'pascal_context_59'
    # A loop the config names is kept.
    cfg = Config.fromfile(CONFIG)
    cfg.test_cfg = dict(type='TestLoop', fp16=True)
    assert as_test_config(cfg).test_cfg == dict(type='TestLoop', fp16=True)
