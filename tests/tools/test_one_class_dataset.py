"""tools/test.py on a one-class dataset: one class is a class, not mmseg's binary branch."""
import re

import cv2
import numpy as np
import pytest

from coseg_tools.generators import write_segmentation_samples
from tests.helpers import TINY_CONFIG, run_tool, save_tiny_checkpoint

pytestmark = pytest.mark.slow  # starts the tools in subprocesses

ONE_CLASS = f'''_base_ = [{TINY_CONFIG!r}]
model = dict(test_vocabulary=None)  # from the dataset: its one class
test_dataloader = dict(dataset=dict(
    _delete_=True, type='BaseSegDataset', data_root='one_class', metainfo=dict(classes=('dog', )),
    data_prefix=dict(img_path='img', seg_map_path='ann'), img_suffix='.jpg', seg_map_suffix='.png',
    pipeline={{{{_base_.test_pipeline}}}}))
'''


def test_tools_test_on_a_one_class_dataset(tmp_path):
    save_tiny_checkpoint(str(tmp_path), 'tiny.pth')
    rng = np.random.default_rng(0)
    label = np.full((64, 64), 255, np.uint8)
    label[16:48, 8:40] = 0  # the dog; the rest has no class
    write_segmentation_samples(str(tmp_path / 'one_class' / 'img'),
                               str(tmp_path / 'one_class' / 'ann'),
                               [(f'{i}', rng.integers(0, 255, (64, 64, 3), dtype=np.uint8), label)
                                for i in range(2)])
    (tmp_path / 'one_class.py').write_text(ONE_CLASS)
    result = run_tool('test.py', 'one_class.py', 'tiny.pth', '--work-dir', 'wd', '--out', 'pred',
                      cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:]
    found = re.search(r'Iter\(test\) \[2/2\].*mIoU: ([\d.]+)', result.stdout)
    assert found, result.stdout[-3000:]
    # The IoU of the one class from the saved predictions: pixels without class (255 in the
    # annotation) count for neither the prediction nor the union (mmseg's IoUMetric).
    inter = union = 0
    for i in range(2):
        pred = cv2.imread(str(tmp_path / 'pred' / f'{i}.png'), cv2.IMREAD_UNCHANGED)
        label = cv2.imread(str(tmp_path / 'one_class' / 'ann' / f'{i}.png'), cv2.IMREAD_UNCHANGED)
        assert pred.shape == (64, 64) and set(np.unique(pred).tolist()) <= {0, 255}
        valid = label != 255
        inter += int(((pred == 0) & (label == 0) & valid).sum())
        union += int((((pred == 0) | (label == 0)) & valid).sum())
    assert float(found.group(1)) == pytest.approx(100 * inter / union, abs=0.006)
