"""Open-vocabulary inference for people: load a model, segment an image with any words.

In the manner of mmseg's ``init_model`` / ``inference_model``::

    from coseg_mmseg.apis import init_model, segment
    model = init_model('configs/coseg/coseg_prefix_cocostuff.py', 'epoch_100.pth')
    result = segment(model, 'beach.jpg', ['sky', 'sea', 'sand', 'person'])
    result.label_map      # (H, W) int64, index into result.names; result.no_label where none
    result.scores         # (K, H, W) float32 per-class scores
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


@dataclass
class SegmentationResult:
    """What :func:`segment` returns for one image.

    Attributes:
        label_map: (H, W) int64 class index per pixel, at the image's size; ``no_label`` where
            no class reached the mask threshold.
        scores: (K, H, W) float32 score of each class at each pixel.
        names: The K class names, in index order.
        no_label: The value of unlabelled pixels in ``label_map``.
    """
    label_map: np.ndarray
    scores: np.ndarray
    names: Tuple[str, ...]
    no_label: int

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
        The model in eval mode, with ``model.cfg`` set.

    Raises:
        UserError: The config holds an option renamed or removed since it was written.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    check_removed_options(cfg._cfg_dict, config if isinstance(config, str) else 'the config')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    if checkpoint is None:
        model.init_weights()
    else:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.cfg = cfg
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


@torch.no_grad()
def segment(model: nn.Module, image: Image, vocabulary: Vocabulary) -> SegmentationResult:
    """Segment one image with any list of words.

    Args:
        model: From :func:`init_model`.
        image: An image path or an (H, W, 3) BGR uint8 array.
        vocabulary: Class names, or any form :func:`parse_vocabulary` reads.

    Returns:
        The label map, the per-class scores and the names.
    """
    model.set_vocabulary(vocabulary, split='test')
    names = model.vocabulary_names('test')
    inputs, samples = prepare_inputs(model, image)
    sample = model.predict(inputs, samples)[0]
    return SegmentationResult(
        label_map=sample.pred_sem_seg.data[0].cpu().numpy().astype(np.int64),
        scores=sample.seg_logits.data.float().cpu().numpy(), names=names,
        no_label=model.decode_head.ignore_index)


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
