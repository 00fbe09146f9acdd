import os

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS

from coseg_tools.class_counts import classes_per_image, suggest_k
from coseg_tools.generators import make_tiny_cocostuff
from tests.helpers import TINY_CONFIG, run_tool


def test_suggest_k_hand_computed():
    stats = suggest_k([2, 4, 4, 6])  # mean 4, std sqrt(2)
    assert stats['mean'] == 4 and stats['std'] == pytest.approx(2 ** 0.5)
    assert stats['k'] == 7  # ceil(4 + 2.83)


@pytest.mark.slow
def test_counts_and_tool_on_tiny_cocostuff(tmp_path):
    make_tiny_cocostuff(str(tmp_path / 'data/tiny/coco_stuff164k'), num_train=6, num_val=1)
    cfg = Config.fromfile(TINY_CONFIG)
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'data/tiny/coco_stuff164k')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    expected = []
    for i in range(len(dataset)):
        seg = cv2.imread(dataset.get_data_info(i)['seg_map_path'], cv2.IMREAD_UNCHANGED)
        expected.append(len(np.unique(seg[seg != 255])))
    assert classes_per_image(dataset) == expected
    result = run_tool('analysis/class_count_distribution.py', TINY_CONFIG, '--out', 'c.png',
                      cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:]
    assert f'k: {suggest_k(expected)["k"]}' in result.stdout
    assert os.path.getsize(tmp_path / 'c.png') > 1000
