import os

import pytest
from mmengine.config import Config

from coseg_tools.data_check import check_data_roots
from tests.helpers import REPO


@pytest.mark.parametrize('config, folder, hint', [
    ('configs/coseg/zero-shot/coseg_prefix_pc459.py', 'data/VOCdevkit/VOC2010/',
     'pascal_context_459.py'),
    ('configs/coseg/zero-shot/coseg_no-train_coco-object.py', 'data/coco_stuff164k',
     'coco_object.py'),
    ('configs/coseg/zero-shot/coseg_xatten_voc20.py', 'data/VOCdevkit/VOC2012',
     'VOCtrainval_11-May-2012.tar'),
])
def test_missing_test_data_is_named_with_how_to_prepare_it(tmp_path, monkeypatch, config, folder,
                                                           hint):
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(os.path.join(REPO, config))
    with pytest.raises(FileNotFoundError) as error:
        check_data_roots(cfg, loaders=('test_dataloader', ))
    assert f"dataset folder '{folder}'" in str(error.value) and hint in str(error.value)


def test_a_zero_byte_image_of_the_dataset_is_named(tmp_path):
    """OpenCV's error for a 0-byte file names no file (issue 25.8): the image folders are
    searched for it once loading has failed."""
    import mmcv
    from mmengine.config import Config

    from coseg_tools.data_check import explain_data_error
    folder = tmp_path / 'images'
    folder.mkdir()
    (folder / 'good.jpg').write_bytes(b'not empty')
    (folder / 'cut.jpg').write_bytes(b'')
    with pytest.raises(Exception) as raised:
        mmcv.imfrombytes(b'')  # the real error LoadImageFromFile meets
    cfg = Config(dict(test_dataloader=dict(dataset=dict(
        data_root=str(tmp_path), data_prefix=dict(img_path='images')))))
    error = explain_data_error(raised.value, cfg)
    assert error is not None and str(folder / 'cut.jpg') in str(error)
    assert 'is empty (0 bytes)' in str(error)
