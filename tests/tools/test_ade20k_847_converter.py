"""tools/dataset_converters/ade20k_847.py on a miniature of the ADE20K_2021_17_01 release."""
import importlib.util
import os
import pickle

import cv2
import numpy as np
import pytest

from coseg_mmseg.datasets.ade20k_847 import ADE20K_847_FULL_IDS
from tests.helpers import REPO, run_tool

pytestmark = pytest.mark.slow  # starts the tools in subprocesses

TOOL = os.path.join(REPO, 'tools', 'dataset_converters', 'ade20k_847.py')
# Full-release class id -> the trainId the converter must write. 165 needs G alone, 3108 and
# 3148 (R // 10 = 12) become trainIds above 255; 0 (unlabeled) and 5 (not one of the 847) are
# ignored.
EXPECTED = {2978: 0, 312: 1, 165: 7, ADE20K_847_FULL_IDS[300]: 300, 3148: 846, 0: 65535,
            5: 65535}
VAL_FOLDER = 'ADE20K_2021_17_01/images/ADE/validation/urban/street'
TRAIN_FOLDER = 'ADE20K_2021_17_01/images/ADE/training/urban/street'


def load_tool():
    spec = importlib.util.spec_from_file_location('ade20k_847_converter', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def encode(full_ids: np.ndarray) -> np.ndarray:
    """The release's ``_seg.png`` colours (BGR for cv2): R / 10 * 256 + G is the class; the
    ones digit of R and all of B carry instance information, which the class ignores."""
    seg = np.zeros((*full_ids.shape, 3), np.uint8)
    seg[..., 2] = (full_ids // 256) * 10 + 7
    seg[..., 1] = full_ids % 256
    seg[..., 0] = 3 + np.arange(full_ids.size).reshape(full_ids.shape) % 200
    return seg


def block_map(height: int, width: int) -> np.ndarray:
    """Full-release ids in vertical bands, one per entry of EXPECTED."""
    ids = np.array(list(EXPECTED), dtype=np.int64)
    return ids[np.arange(width) * len(ids) // width][None].repeat(height, axis=0)


@pytest.fixture
def release(tmp_path):
    """ADE20K_2021_17_01 with index_ade20k.pkl: two validation images, one training image."""
    root = tmp_path / 'ADE20K_2021_17_01'
    entries = [(TRAIN_FOLDER, 'ADE_train_00000001.jpg', (30, 40)),
               (VAL_FOLDER, 'ADE_val_00000001.jpg', (40, 60)),  # short side <= 512: copied
               (VAL_FOLDER, 'ADE_val_00000002.jpg', (520, 700))]  # resized to 512 x 689
    rng = np.random.default_rng(0)
    for folder, filename, (h, w) in entries:
        path = tmp_path / folder / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        cv2.imwrite(str(path).replace('.jpg', '_seg.png'), encode(block_map(h, w)))
    index = dict(folder=[e[0] for e in entries], filename=[e[1] for e in entries],
                 objectnames=['-'] * 3688,  # the release's index also holds numpy arrays
                 objectPresence=np.zeros((3688, 3), np.uint16))
    with open(root / 'index_ade20k.pkl', 'wb') as f:
        pickle.dump(index, f)
    return root


def test_converts_validation_images(release, tmp_path):
    out = tmp_path / 'ADE20K_847'
    result = run_tool('dataset_converters/ade20k_847.py', str(release), '--out', str(out),
                      cwd=str(tmp_path), timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'wrote 2 images and label maps' in result.stdout
    assert sorted(os.listdir(out / 'images' / 'validation')) == \
        ['ADE_val_00000001.jpg', 'ADE_val_00000002.jpg']  # not the training image
    lut = np.vectorize(EXPECTED.get)

    small = cv2.imread(str(out / 'annotations/validation/ADE_val_00000001.png'),
                       cv2.IMREAD_UNCHANGED)
    assert small.dtype == np.uint16
    assert small.tolist() == lut(block_map(40, 60)).tolist()
    assert set(np.unique(small)) == {0, 1, 7, 300, 846, 65535}
    assert (out / 'images/validation/ADE_val_00000001.jpg').read_bytes() == \
        (release.parent / VAL_FOLDER / 'ADE_val_00000001.jpg').read_bytes()

    large = cv2.imread(str(out / 'annotations/validation/ADE_val_00000002.png'),
                       cv2.IMREAD_UNCHANGED)
    image = cv2.imread(str(out / 'images/validation/ADE_val_00000002.jpg'))
    assert large.shape == image.shape[:2] == (512, 689)
    # Nearest resizing of the true trainIds: no id mixed with its neighbour.
    expected = cv2.resize(lut(block_map(520, 700)).astype(np.uint16), (689, 512),
                          interpolation=cv2.INTER_NEAREST)
    assert np.array_equal(large, expected)


def test_missing_seg_png_is_named(release, tmp_path):
    seg = release.parent / VAL_FOLDER / 'ADE_val_00000002_seg.png'
    seg.unlink()
    with pytest.raises(FileNotFoundError, match='ADE_val_00000002_seg.png'):
        load_tool().convert_ade20k_847(str(release), str(tmp_path / 'out'))


def test_missing_index_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='index_ade20k.pkl does not exist'):
        load_tool().convert_ade20k_847(str(tmp_path), str(tmp_path / 'out'))
