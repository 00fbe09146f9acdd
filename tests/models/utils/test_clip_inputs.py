"""CLIP's and CLIPSeg's input statistics, and CLIP's input derived from another one.

Also CoSeg's own CLIP input from an image file, against ``CLIPImageProcessor``. CoSeg does not
centre-crop at test time: it segments the whole image, shortest edge resized to 224 by the
config's test pipeline (mmcv, cv2 bilinear without antialiasing, as its training pipeline
resizes; mmcv rounds the long edge where CLIP's processor truncates it). What is comparable is
checked: the statistics and channel order exactly, the size, and the centre crop within the
resampling difference measured on the 480 x 640 scene below: max 0.61, mean 0.063 normalised
units (PIL's bicubic would give mean 0.035).
"""
import os

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmseg.registry import MODELS
from PIL import Image
from transformers import CLIPImageProcessor
from transformers.image_utils import (IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD,
                                      OPENAI_CLIP_MEAN, OPENAI_CLIP_STD)
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

from coseg_mmseg.models.utils.clip_inputs import (CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD,
                                                  clip_rank_inputs, clip_resize_shape)
from coseg_tools.generators.tiny_assets import _draw_scene

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
COSEG_CONFIGS = ['configs/coseg/coseg_prefix_cocostuff.py',
                 'configs/coseg/coseg_xatten_cocostuff.py']
PROCESSORS = dict(pil=CLIPImageProcessorPil, torchvision=CLIPImageProcessor)


def write_scene(folder, height: int, width: int) -> str:
    image, _ = _draw_scene(np.random.default_rng(7), height, width)
    path = str(folder / f'scene_{height}x{width}.jpg')
    cv2.imwrite(path, image)
    return path


def file_pixels(path: str) -> torch.Tensor:
    """(1, 3, H, W) RGB 0-255 pixels of the file, as mmcv decodes it."""
    bgr = cv2.imread(path)
    return torch.from_numpy(np.ascontiguousarray(bgr[..., ::-1])).permute(2, 0, 1)[None].float()


def config_preprocessor(path: str) -> dict:
    return Config.fromfile(os.path.join(REPO, path)).model.data_preprocessor


def test_statistics_are_the_processors_and_the_configs():
    assert CLIP_MEAN == tuple(OPENAI_CLIP_MEAN) and CLIP_STD == tuple(OPENAI_CLIP_STD)
    assert IMAGENET_MEAN == tuple(IMAGENET_DEFAULT_MEAN)
    assert IMAGENET_STD == tuple(IMAGENET_DEFAULT_STD)
    for config, (mean, std) in {
            'configs/_base_/models/clip_data_preprocessor.py': (CLIP_MEAN, CLIP_STD),
            'configs/_base_/models/clipseg_data_preprocessor.py': (IMAGENET_MEAN, IMAGENET_STD),
            'configs/coseg/coseg_prefix_cocostuff.py': (CLIP_MEAN, CLIP_STD),
            'configs/coseg/coseg_no-train_cocostuff.py': (IMAGENET_MEAN, IMAGENET_STD),
    }.items():
        pre = config_preprocessor(config)
        np.testing.assert_allclose(pre.mean, np.array(mean) * 255, rtol=1e-7, err_msg=config)
        np.testing.assert_allclose(pre.std, np.array(std) * 255, rtol=1e-7, err_msg=config)
        assert pre.bgr_to_rgb, config


@pytest.mark.parametrize('ori_shape, expected', [((480, 640), (224, 298)),
                                                 ((640, 480), (298, 224)),
                                                 ((427, 640), (224, 335)),
                                                 ((300, 300), (224, 224))])
def test_clip_resize_shape_truncates_the_long_edge(ori_shape, expected):
    assert clip_resize_shape(ori_shape, 224) == expected


@pytest.mark.parametrize('shape', [(480, 640), (500, 375)])
@pytest.mark.parametrize('backend', ['pil', 'torchvision'])
def test_from_the_file_it_is_clip_image_processor(tmp_path, shape, backend):
    """On the file's own pixels (one resampling), the processor's output within 0.015
    (measured: its uint8 rounding after the resize; 0.0149 / 0.0149)."""
    path = write_scene(tmp_path, *shape)
    ref = PROCESSORS[backend]()(Image.open(path).convert('RGB'), return_tensors='pt')
    ours = clip_rank_inputs(file_pixels(path), input_mean=None, input_std=None, size=224)
    assert ours.shape == ref.pixel_values.shape == (1, 3, 224, 224)
    assert (ours - ref.pixel_values).abs().max() <= 0.016


def test_undoes_the_normalisation_and_ignores_padding(tmp_path):
    pixels = file_pixels(write_scene(tmp_path, 240, 320))  # (1, 3, 240, 320)
    mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
    padded = torch.nn.functional.pad((pixels - mean) / std, (0, 16, 0, 32), value=0.0)
    ours = clip_rank_inputs(padded, input_mean=mean, input_std=std, size=64,
                            img_shapes=[(240, 320)], ori_shapes=[(240, 320)])
    ref = clip_rank_inputs(pixels, input_mean=None, input_std=None, size=64)
    torch.testing.assert_close(ours, ref, atol=1e-4, rtol=0)
    assert clip_rank_inputs(padded.bfloat16(), input_mean=mean, input_std=std, size=64,
                            img_shapes=[(240, 320)]).dtype == torch.bfloat16


@pytest.mark.parametrize('config', COSEG_CONFIGS)
def test_coseg_clip_input_from_the_file(tmp_path, config):
    path = write_scene(tmp_path, 480, 640)
    cfg = Config.fromfile(os.path.join(REPO, config))
    steps = [s for s in cfg.test_dataloader.dataset.pipeline
             if not s['type'].endswith('Annotations')]
    data = Compose(steps)(dict(img_path=path))
    batch = MODELS.build(cfg.model.data_preprocessor)(pseudo_collate([data]), False)
    inputs, meta = batch['inputs'], batch['data_samples'][0].metainfo
    h, w = meta['img_shape']
    assert min(h, w) == 224 and abs(max(h, w) - clip_resize_shape((480, 640), 224)[1]) <= 1
    # Statistics and channel order: CLIPImageProcessor's normalisation of the same resized
    # image (the pipeline's BGR uint8 output) is the backbone's input.
    resized_rgb = data['inputs'].numpy()[::-1].transpose(1, 2, 0).copy()  # (h, w, 3)
    normalised = CLIPImageProcessor(do_resize=False, do_center_crop=False)(
        resized_rgb, return_tensors='pt').pixel_values
    torch.testing.assert_close(inputs[:, :, :h, :w], normalised, atol=1e-5, rtol=0)
    # The centre crop against CLIPImageProcessor on the file: the resampling differs only.
    ref = CLIPImageProcessor()(Image.open(path).convert('RGB'), return_tensors='pt')
    left = int((w - 224) / 2)
    err = (inputs[:, :, :, left:left + 224] - ref.pixel_values).abs()
    assert err.max() <= 0.65 and err.mean() <= 0.07, (err.max(), err.mean())
