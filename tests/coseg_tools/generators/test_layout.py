"""write_segmentation_samples: the files of mmseg's layout read back as written."""
import cv2
import numpy as np
import pytest
from PIL import Image

from coseg_tools.generators import write_coco_stuff_split, write_segmentation_samples


def samples(dtype=np.uint8, count: int = 2):
    for i in range(count):
        image = np.zeros((3, 4, 3), np.uint8)
        image[..., 2] = 200  # red in BGR
        label = np.arange(12, dtype=dtype).reshape(3, 4) * (300 if dtype == np.uint16 else 1)
        label[0, 0] = i
        yield f'{i:03d}', image, label


def test_images_labels_and_split_file(tmp_path):
    stems = write_segmentation_samples(str(tmp_path / 'img'), str(tmp_path / 'ann'),
                                       samples(np.uint16), img_suffix='.png',
                                       seg_map_suffix='_gt.png',
                                       split_file=str(tmp_path / 'sets' / 'val.txt'))
    assert stems == ['000', '001']
    assert (tmp_path / 'sets' / 'val.txt').read_text() == '000\n001\n'
    for i, stem in enumerate(stems):
        label = cv2.imread(str(tmp_path / 'ann' / f'{stem}_gt.png'), cv2.IMREAD_UNCHANGED)
        assert label.dtype == np.uint16  # 16-bit maps stay 16-bit (A-847, PC-459)
        assert label[0, 0] == i and label[2, 3] == 11 * 300
        image = cv2.imread(str(tmp_path / 'img' / f'{stem}.png'))
        assert image[..., 2].tolist() == [[200] * 4] * 3 and image[..., :2].max() == 0


def test_palette_maps_store_the_labels_as_indices(tmp_path):
    palette = [v for i in range(256) for v in (i, 255 - i, 0)]
    write_segmentation_samples(str(tmp_path / 'img'), str(tmp_path / 'ann'), samples(count=1),
                               palette=palette)
    mapped = Image.open(tmp_path / 'ann' / '000.png')
    assert mapped.mode == 'P'
    assert np.array(mapped).tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


def test_coco_stuff_names_and_refusals(tmp_path):
    write_coco_stuff_split(str(tmp_path), 'val2017', ((im, lb) for _, im, lb in samples()),
                           first_id=0)
    assert sorted(p.name for p in (tmp_path / 'annotations' / 'val2017').iterdir()) == [
        '000000000000_labelTrainIds.png', '000000000001_labelTrainIds.png']
    assert (tmp_path / 'images' / 'val2017' / '000000000001.jpg').is_file()
    with pytest.raises(ValueError, match="sample 'x'.*same size"):
        write_segmentation_samples(str(tmp_path), str(tmp_path),
                                   [('x', np.zeros((3, 4, 3), np.uint8),
                                     np.zeros((4, 3), np.uint8))])
    with pytest.raises(ValueError, match='8-bit'):
        write_segmentation_samples(str(tmp_path), str(tmp_path), samples(np.uint16, 1),
                                   palette=[0] * 768)
