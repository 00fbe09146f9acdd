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
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_checkpoint
from mmseg.registry import MODELS
from torch import nn

from ..datasets.vocabularies import VOCABULARIES, get_vocabulary
from ..models.text_encoders import check_vocabulary

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


def parse_vocabulary(text: str) -> Tuple[str, ...]:
    """A vocabulary as people type it.

    Accepts comma-separated words (``"sky,sea,sand"``), a named vocabulary (``"voc20"``, see
    :mod:`coseg_mmseg.datasets.vocabularies`), or ``@FILE`` with one name per line (``.txt``).

    Raises:
        ValueError: Naming what could not be read.
    """
    text = text.strip()
    if text.startswith('@'):
        path = text[1:]
        if not path.endswith('.txt'):
            raise ValueError(f'vocabulary file {path!r}: expected a .txt file, one name per line')
        if not os.path.isfile(path):
            raise FileNotFoundError(f'vocabulary file {path!r} does not exist')
        with open(path) as f:
            names = [line.strip() for line in f if line.strip()]
    elif text in VOCABULARIES:
        names = list(get_vocabulary(text))
    else:
        if any(sep in text for sep in (';', '|', '\t', '\n')):
            raise ValueError(f'cannot read the vocabulary {text!r}: separate the words with '
                             f'commas ("sky,sea,sand"), name a vocabulary '
                             f'({", ".join(sorted(VOCABULARIES))}) or give @file.txt')
        names = [word.strip() for word in text.split(',')]
        if any(not word for word in names):
            raise ValueError(f'the vocabulary {text!r} has an empty name between commas')
    return check_vocabulary(names, what='vocabulary')


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
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
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
def segment(model: nn.Module, image: Image, vocabulary: Union[str, Sequence[str]]
            ) -> SegmentationResult:
    """Segment one image with any list of words.

    Args:
        model: From :func:`init_model`.
        image: An image path or an (H, W, 3) BGR uint8 array.
        vocabulary: Class names, or a named vocabulary.

    Returns:
        The label map, the per-class scores and the names.
    """
    names = check_vocabulary(get_vocabulary(vocabulary), what='vocabulary')
    model.set_vocabulary(names, split='test')
    inputs, samples = prepare_inputs(model, image)
    sample = model.predict(inputs, samples)[0]
    return SegmentationResult(
        label_map=sample.pred_sem_seg.data[0].cpu().numpy().astype(np.int64),
        scores=sample.seg_logits.data.float().cpu().numpy(), names=names,
        no_label=model.decode_head.ignore_index)


@torch.no_grad()
def slot_predictions(model: nn.Module, image: Image, vocabulary: Union[str, Sequence[str]], *,
                     top: int = 3) -> list:
    """What each of the N slots found: its mask and its best labels with their scores.

    Label scores are a softmax over the vocabulary plus "unlabeled" of the cosine similarities
    divided by the training temperature (the loss's ``temperature``).

    Returns:
        One dict per slot: ``mask`` (H, W) probabilities at the network's input size and
        ``labels``: [(name, score)] best first.
    """
    names = check_vocabulary(get_vocabulary(vocabulary), what='vocabulary')
    model.set_vocabulary(names, split='test')
    inputs, _ = prepare_inputs(model, image)
    out = model._forward(inputs)
    vocab = torch.nn.functional.normalize(out['vocab_embeds'], dim=-1)  # (K + 1, D)
    slots = torch.nn.functional.normalize(out['slot_embeds'][0], dim=-1)  # (N, D)
    temperature = getattr(model.decode_head.loss_decode, 'temperature', 0.08)
    probs = (slots @ vocab.t() / temperature).softmax(-1)  # (N, K + 1)
    all_names = names + (model.unlabeled_name, )
    result = []
    for n in range(slots.shape[0]):
        best = probs[n].topk(min(top, probs.shape[1]))
        result.append(dict(
            mask=out['mask_logits'][0, n].sigmoid().cpu().numpy(),
            labels=[(all_names[i], float(p)) for p, i in zip(best.values, best.indices)]))
    return result
