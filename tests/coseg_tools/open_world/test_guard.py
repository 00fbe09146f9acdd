"""Regression guard: a short open-world run still names classes it never trained on.

coseg_tools/open_world/guard.py: a small world (160 training scenes, 24 per test part, a CLIP
pretrained for 120 steps), 300 iterations of the main config (CoSeg-Prefix, set matching)
through tools/train.py and its cross-vocabulary test (unseen scenes, unseen names only) through
tools/test.py. The bound sits between this run and two broken text paths, the same checkpoint
asked for each unseen class by another unseen class's name and the same run with the CLIP's
untrained text tower: the measured values and their commands are in
docs/benchmarks/open_world_guard_cpu.txt. The closed-set floor (a stock head trained on the
seen classes) names no unseen class: 0 by construction.
"""
import pytest

from coseg_tools.open_world import guard

CROSS_BOUND = 16.0


@pytest.mark.slow
def test_short_run_names_unseen_classes(tmp_path):
    result = guard.run_variant(str(tmp_path), 'ok')
    assert result['cross'] >= CROSS_BOUND, result


def test_shuffled_names_config_rotates_the_unseen_names(tmp_path):
    """The broken variant asks for every unseen class by the next one's name."""
    from mmengine.config import Config
    path = guard.shuffled_names_config(str(tmp_path), ['a b', 'c d', 'e f'])
    cfg = Config.fromfile(path)
    assert cfg.model.test_vocabulary == ['c d', 'e f', 'a b']
    assert cfg.test_dataloader.dataset.vocabulary == 'unseen'
