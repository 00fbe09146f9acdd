"""CLIPRankView against transformers' CLIPImageProcessor (PIL backend) on image files."""
import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import LoadImageFromFile
from PIL import Image
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

from coseg_mmseg.datasets.transforms import CLIPRankView
from coseg_tools.generators.tiny_assets import _draw_scene


def write_scene(folder, height: int, width: int) -> str:
    image, _ = _draw_scene(np.random.default_rng(height * 7 + width), height, width)
    path = str(folder / f'scene_{height}x{width}.jpg')
    cv2.imwrite(path, image)
    return path


# Landscape and portrait files, odd long edges (335: the centre crop's offset rounds), one
# smaller than the crop (upsampled), one square.
@pytest.mark.parametrize('shape', [(480, 640), (640, 427), (427, 640), (150, 100), (300, 300)])
def test_view_of_the_file_is_clip_image_processors(tmp_path, shape):
    path = write_scene(tmp_path, *shape)
    results = CLIPRankView()(LoadImageFromFile()(dict(img_path=path)))
    ref = CLIPImageProcessorPil()(Image.open(path).convert('RGB'), return_tensors='pt')
    view = results['clip_rank_input']
    assert view.dtype == torch.float32 and view.shape == (3, 224, 224)
    torch.testing.assert_close(view, ref.pixel_values[0], atol=1e-6, rtol=0)
    assert results['img'].shape[:2] == shape  # the image itself is left for the pipeline


def test_size_mean_std_and_key(tmp_path):
    path = write_scene(tmp_path, 120, 90)
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    results = CLIPRankView(size=64, mean=mean, std=std, key='view')(
        LoadImageFromFile()(dict(img_path=path)))
    ref = CLIPImageProcessorPil(size={'shortest_edge': 64}, crop_size=dict(height=64, width=64),
                                image_mean=list(mean), image_std=list(std))(
        Image.open(path).convert('RGB'), return_tensors='pt').pixel_values[0]
    torch.testing.assert_close(results['view'], ref, atol=1e-6, rtol=0)


def test_grey_image_is_one_line(tmp_path):
    with pytest.raises(ValueError, match=r'g\.png must be decoded as \(H, W, 3\) uint8'):
        CLIPRankView()(dict(img=np.zeros((8, 8), np.uint8), img_path='g.png'))
