"""Open-vocabulary inference for people: load a model, segment an image with any words.

In the manner of mmseg's ``init_model`` / ``inference_model``::

    from coseg_mmseg.apis import init_model, segment
    model = init_model('configs/coseg/coseg_prefix_cocostuff.py', 'epoch_100.pth')
    result = segment(model, 'beach.jpg', ['sky', 'sea', 'sand', 'person'])
    result.label_map      # (H, W) int64, index into result.names; result.no_label where none
    result.scores         # (K, h, w) float32 per-class scores at the network's size
    result.image_scores() # (K, H, W) the same at the image's size (K full-size maps: costly)

Memory is bounded: the labels are computed from the network-size scores one class at a time
(no K full-size score maps), and images above ``MAX_IMAGE_PIXELS`` are refused before they
are decoded.
"""
import os
from dataclasses import dataclass
from typing import Dict, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_checkpoint
from mmseg.registry import MODELS
from torch import nn

from ..datasets.vocabularies import Vocabulary
from ..utils.config_check import check_removed_options

Image = Union[str, np.ndarray]

# Largest image segment() takes, in pixels (a 48-megapixel photo passes; 8000 x 8000 does not).
MAX_IMAGE_PIXELS = 50_000_000


@dataclass
class SegmentationResult:
    """What :func:`segment` returns for one image.

    Attributes:
        label_map: (H, W) int64 class index per pixel, at the image's size; ``no_label`` where
            no class reached the mask threshold.
        scores: (K, h, w) float32 score of each class at the network's size (the image as the
            test pipeline resized it, without padding); ``label_map`` is their bilinear
            upsampling to (H, W), labelled.
        names: The K class names, in index order.
        no_label: The value of unlabelled pixels in ``label_map``.
        align_corners: How ``scores`` are upsampled (the model's ``align_corners``).
    """
    label_map: np.ndarray
    scores: np.ndarray
    names: Tuple[str, ...]
    no_label: int
    align_corners: bool = False

    def image_scores(self) -> np.ndarray:
        """(K, H, W) float32 scores at the image's size, as ``label_map`` was labelled from.

        K full-size maps: 4 * K * H * W bytes; :attr:`scores` is what to keep.
        """
        import torch.nn.functional as F
        return F.interpolate(torch.from_numpy(self.scores)[None], size=self.label_map.shape,
                             mode='bilinear', align_corners=self.align_corners)[0].numpy()

    def present(self) -> Dict[str, float]:
        """Classes present in ``label_map`` -> the fraction of pixels they cover."""
        ids, counts = np.unique(self.label_map[self.label_map != self.no_label],
                                return_counts=True)
        return {self.names[i]: int(c) / self.label_map.size for i, c in zip(ids.tolist(), counts)}


def init_model(config: Union[str, Config], checkpoint: Optional[str] = None, *,
               device: str = 'cpu', cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a segmentor from a config and load its weights.

    Args:
        config: Config file or object.
        checkpoint: A checkpoint of :mod:`tools/train.py`; ``None`` loads the weights named by
            the config's ``init_cfg`` (the no-training baseline needs nothing else).
        device: Where the model runs.
        cfg_options: Config overrides, as ``--cfg-options``.

    Returns:
        The model in eval mode, with ``model.cfg`` set and ``model.checkpoint_meta`` the
        checkpoint's ``meta`` dict (``{}`` without one): what was read in the one load of the
        file, so that no caller reads the file again.

    Raises:
        UserError: The config holds an option renamed or removed since it was written.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    check_removed_options(cfg._cfg_dict, config if isinstance(config, str) else 'the config')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    meta = None
    if checkpoint is None:
        model.init_weights()
    else:
        meta = load_checkpoint(model, checkpoint, map_location='cpu', strict=True).get('meta')
    model.cfg = cfg
    model.checkpoint_meta = dict(meta) if isinstance(meta, dict) else {}
    return model.to(device).eval()


def _test_pipeline(cfg: Config, image: Image) -> Compose:
    """The config's test pipeline without annotation loading, for a path or an array."""
    steps = [dict(step) for step in cfg.test_dataloader.dataset.pipeline
             if not step['type'].endswith('Annotations')]
    if isinstance(image, np.ndarray):
        steps[0] = dict(type='LoadImageFromNDArray')
    return Compose(steps)


def prepare_inputs(model: nn.Module, image: Image) -> Tuple[torch.Tensor, list]:
    """Run the test pipeline and the data preprocessor: (1, 3, H, W) inputs and samples."""
    if isinstance(image, str) and not os.path.isfile(image):
        raise FileNotFoundError(f'image {image!r} does not exist')
    data = _test_pipeline(model.cfg, image)(
        dict(img=image) if isinstance(image, np.ndarray) else dict(img_path=image))
    batch = model.data_preprocessor(pseudo_collate([data]), False)
    return batch['inputs'], batch['data_samples']


def image_size(image: Image) -> Optional[Tuple[int, int]]:
    """(H, W) of an image array, or of an image file read from its header (not decoded);
    None when the header cannot be read (the pipeline's decoder then says why)."""
    if isinstance(image, np.ndarray):
        return tuple(image.shape[:2])
    try:
        from PIL import Image as PILImage
        with PILImage.open(image) as opened:
            width, height = opened.size
        return height, width
    except Exception:  # not a format PIL reads, or a decompression bomb: the decoder decides
        return None


def check_image_size(image: Image, max_pixels: Optional[int] = MAX_IMAGE_PIXELS) -> None:
    """Refuse an image above ``max_pixels`` before it is decoded.

    Raises:
        ValueError: Naming the size, the limit and the fix.
    """
    size = image_size(image)
    if max_pixels is None or size is None or size[0] * size[1] <= max_pixels:
        return
    what = 'the image' if isinstance(image, np.ndarray) else f'image {image!r}'
    raise ValueError(f'{what} is {size[1]} x {size[0]} = {size[0] * size[1] / 1e6:.1f} '
                     f'megapixels, above the limit of {max_pixels / 1e6:.1f} (max_pixels): '
                     f'resize it first (the network sees it at a few hundred pixels anyway)')


@torch.no_grad()
def segment(model: nn.Module, image: Image, vocabulary: Vocabulary, *,
            max_pixels: Optional[int] = MAX_IMAGE_PIXELS) -> SegmentationResult:
    """Segment one image with any list of words.

    The labels are those of mmseg's ``predict`` (``pred_sem_seg``), computed without its K
    full-size score maps (:meth:`CoSegBase.labels_at_size`): memory grows with H x W, not with
    K x H x W.

    Args:
        model: From :func:`init_model`.
        image: An image path or an (H, W, 3) BGR uint8 array.
        vocabulary: Class names, or any form :func:`parse_vocabulary` reads.
        max_pixels: Largest image taken (H x W); ``None`` for no limit.

    Returns:
        The label map, the per-class scores and the names.

    Raises:
        ValueError: An image above ``max_pixels``, or a vocabulary that cannot be read.
    """
    check_image_size(image, max_pixels)
    model.set_vocabulary(vocabulary, split='test')
    names = model.vocabulary_names('test')
    inputs, samples = prepare_inputs(model, image)
    model.load_unloaded_pretrained()
    meta = samples[0].metainfo
    scores = model.unpad(model.inference(inputs, [meta])[0], meta)  # (K, h, w)
    labels = model.labels_at_size(scores, meta['ori_shape'])
    return SegmentationResult(
        label_map=labels.cpu().numpy(), scores=scores.float().cpu().numpy(), names=names,
        no_label=model.decode_head.ignore_index, align_corners=bool(model.align_corners))


@torch.no_grad()
def slot_predictions(model: nn.Module, image: Image, vocabulary: Vocabulary, *,
                     top: int = 3) -> list:
    """What each of the N slots found: its mask and its best labels with their scores.

    The labels are the model's own naming (``decode_head.name_slots``): the same that
    :func:`segment` uses.

    Returns:
        One dict per slot: ``mask`` (H, W) probabilities at the network's input size and
        ``labels``: [(name, probability)] best first, "unlabeled" included.
    """
    model.set_vocabulary(vocabulary, split='test')
    all_names = model.vocabulary_names('test') + (model.unlabeled_name, )
    inputs, samples = prepare_inputs(model, image)
    out = model._forward(inputs, samples)
    probs = model.decode_head.name_slots(out)[0]  # (N, K + 1)
    result = []
    for n in range(probs.shape[0]):
        best = probs[n].topk(min(top, probs.shape[1]))
        result.append(dict(
            mask=out['mask_logits'][0, n].sigmoid().cpu().numpy(),
            labels=[(all_names[i], float(p)) for p, i in zip(best.values, best.indices)]))
    return result
