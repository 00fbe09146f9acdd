"""CoSegBase: what CoSeg and its no-training baseline share (not registered: a base class).

Both are mmseg ``EncoderDecoder`` s whose classes are not fixed by the architecture: N slots
each draw one mask, and each slot is named from a text vocabulary that can change at any time.
This class owns that part — the text encoder, the vocabulary state, the frozen-weight
references — and its own post-processing, where it departs from mmseg's contracts (all in this
one file):

- ``num_classes`` / ``out_channels`` are the size of the test vocabulary in use, not a config
  knob (mmseg reads them from the decode head; here they follow :meth:`set_vocabulary`).
- ``seg_logits`` are per-class scores in [0, 1] (``decode_head.slot_scores``), and
  :meth:`postprocess_result` labels a pixel with its best class only where that score reaches
  ``decode_head.mask_threshold``; elsewhere it writes "no label" (``decode_head.ignore_index``),
  which ``IoUMetric`` counts as a miss. One class is one class, not mmseg's binary branch.
- ``dataset_meta`` (set by mmseg's ``init_model`` and ``MMSegInferencer`` from a checkpoint)
  gives the default test vocabulary, and reads back the vocabulary in use, so mmseg's
  visualisers name what the model predicts.

Test vocabulary, first found: the config's ``model.test_vocabulary``; the last
:meth:`set_vocabulary` (also called by :class:`~coseg_mmseg.engine.CoSegVocabularyHook` with
the test set's classes); the checkpoint's ``dataset_meta`` classes; the classes of the config's
test dataset (``model.cfg``, set by ``init_model``).

Seen classes (the names trained on, which ``decode_head.seen_calibration`` lowers), first
found: the last :meth:`set_seen_classes` (the hook passes a test set's
``metainfo['seen_classes']``); the training vocabulary when known (fixed in the config, or
set by training); the checkpoint's ``dataset_meta`` classes (those of its training set).
"""
from abc import abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import OptSampleList, SampleList, get_classes
from torch import Tensor

from ...datasets.vocabularies import Vocabulary, check_vocabulary, parse_vocabulary
from ...utils.palette import palette as palette_of
from ..features import CoSegFeatures, HeadOutputs
from ..utils.frozen_weights import is_frozen_pretrained, save_frozen_as_reference
from ..utils.label_ids import check_label_ids

SPLITS = ('train', 'test')
CONFIG_KEYS = {'train': 'model.vocabulary', 'test': 'model.test_vocabulary'}


def config_test_classes(cfg) -> Optional[Tuple[str, ...]]:
    """The classes of a config's test dataset (its ``metainfo`` or its class's), if any."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') if cfg is not None else None
    if not dataset:
        return None
    classes = (dataset.get('metainfo') or {}).get('classes')
    if classes is None and isinstance(dataset.get('type'), str):
        dataset_cls = DATASETS.get(dataset['type'])
        classes = getattr(dataset_cls, 'METAINFO', {}).get('classes')
    return tuple(classes) if classes else None


class CoSegBase(EncoderDecoder):
    """Frozen text encoder + vocabularies + slot-based post-processing.

    Args:
        backbone, decode_head, neck, train_cfg, test_cfg, data_preprocessor, init_cfg: As in
            mmseg's ``EncoderDecoder``.
        text_encoder: Text encoder config (:class:`FrozenCLIPTextEncoder`).
        vocabulary: Training class names or any form :func:`parse_vocabulary` reads; None
            uses the training dataset's.
        test_vocabulary: Test class names, likewise; None: see the module docstring.
        unlabeled_name: Name whose embedding stands for "no class".
        save_frozen_weights: Copy the frozen pretrained modules (CLIP) into every checkpoint.
            By default a checkpoint holds only a reference to them (their ``init_cfg``) and
            loading it reloads them from there (:mod:`coseg_mmseg.models.utils.frozen_weights`).
        pretrained: mmseg's legacy argument (``init_model`` always passes None): must be None;
            pretrained weights are named by each component's ``init_cfg``.
    """

    def __init__(self, *, backbone: dict, decode_head: dict, text_encoder: dict,
                 neck: Optional[dict] = None, vocabulary: Optional[Vocabulary] = None,
                 test_vocabulary: Optional[Vocabulary] = None,
                 unlabeled_name: str = 'unlabeled', save_frozen_weights: bool = False,
                 train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if pretrained is not None:
            raise ValueError(f'model.pretrained={pretrained!r} is not used by '
                             f'{type(self).__name__}: name pretrained weights in the init_cfg '
                             f'of the backbone, text encoder or decode head')
        super().__init__(backbone=backbone, decode_head=decode_head, neck=neck,
                         train_cfg=train_cfg, test_cfg=test_cfg,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.text_encoder = MODELS.build(text_encoder)
        self.unlabeled_name = unlabeled_name
        self.fixed_vocabulary: Dict[str, Optional[Tuple[str, ...]]] = {
            split: None if names is None else parse_vocabulary(names, what=CONFIG_KEYS[split])
            for split, names in zip(SPLITS, (vocabulary, test_vocabulary))}
        self.vocabulary: Dict[str, Optional[Tuple[str, ...]]] = dict(self.fixed_vocabulary)
        self._checkpoint_meta: Optional[dict] = None
        self._seen_classes: Optional[Tuple[str, ...]] = None
        self.save_frozen_weights = save_frozen_weights
        self._checkpoint_loaded = False
        self.register_load_state_dict_post_hook(self._mark_checkpoint_loaded)

    def save_frozen_references(self) -> None:
        """Register the frozen pretrained children to be saved as references, not copies.

        Called at the end of every subclass's ``__init__``, once all children exist
        (idempotent).
        """
        if not self.save_frozen_weights:
            for child in self.children():
                if is_frozen_pretrained(child):
                    save_frozen_as_reference(child)

    @staticmethod
    def _mark_checkpoint_loaded(module: 'CoSegBase', incompatible_keys) -> None:
        module._checkpoint_loaded = True

    def load_unloaded_pretrained(self) -> None:
        """Frozen pretrained children load their ``init_cfg`` weights if nothing loaded any.

        mmseg's ``init_model(config)``, ``MMSegInferencer(model=config)`` and its benchmark
        tool build a model without calling ``init_weights`` and, for the no-training baseline,
        without a checkpoint: its pretrained CLIP and CLIPSeg would stay random. Called before
        inference; does nothing once ``init_weights`` ran or a checkpoint was loaded.
        """
        if self._checkpoint_loaded:
            return
        for child in self.children():
            if is_frozen_pretrained(child) and not child.is_init:
                child.init_weights()

    def predict(self, inputs: Tensor, data_samples: OptSampleList = None) -> SampleList:
        """mmseg's inference, with the pretrained weights loaded if nothing loaded them."""
        self.load_unloaded_pretrained()
        return super().predict(inputs, data_samples)

    def _init_decode_head(self, decode_head: dict) -> None:
        """Build the head; the class count is the vocabulary's, not the head's."""
        self.decode_head = MODELS.build(decode_head)
        self.align_corners = self.decode_head.align_corners

    # ---------------------------------------------------------------- vocabulary
    def set_vocabulary(self, names: Vocabulary, *, split: str = 'test') -> None:
        """Use ``names`` (any form :func:`parse_vocabulary` reads) for ``split``."""
        if split not in SPLITS:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        names = parse_vocabulary(names, what=f'{split} vocabulary')
        check_vocabulary(names + (self.unlabeled_name, ),
                         what=f'{split} vocabulary + unlabeled_name')
        self.vocabulary[split] = names

    def set_dataset_classes(self, classes: Sequence[str], *, split: str,
                            dataset: str = 'dataset') -> None:
        """Adopt a dataset's classes, unless the config fixed this split's vocabulary.

        A fixed vocabulary must have one name per dataset class (same order): the metric
        indexes classes by position.
        """
        fixed = self.fixed_vocabulary[split]
        if fixed is None:
            self.set_vocabulary(classes, split=split)
        elif len(fixed) != len(classes):
            raise ValueError(f'{CONFIG_KEYS[split]} has {len(fixed)} names but {dataset} has '
                             f'{len(classes)} classes; give one name per class, in the '
                             f"dataset's order")

    def vocabulary_names(self, split: str) -> Tuple[str, ...]:
        """The class names in use for ``split`` (resolved as the module docstring says)."""
        names = self.vocabulary[split]
        if names is None and split == 'test':
            meta = self._checkpoint_meta or {}
            names = meta.get('classes') or config_test_classes(getattr(self, 'cfg', None))
            if names is not None:
                self.set_vocabulary(tuple(names), split='test')
                names = self.vocabulary['test']
        if names is None:
            raise RuntimeError(
                f'{type(self).__name__} has no {split} vocabulary: set {CONFIG_KEYS[split]} in '
                f"the config, keep dict(type='CoSegVocabularyHook') in custom_hooks (it reads "
                f"the dataset's metainfo['classes']), or call "
                f'model.set_vocabulary(names, split={split!r})')
        return names

    def set_seen_classes(self, names: Optional[Sequence[str]]) -> None:
        """The names the model was trained on (``None``: resolve them as the module
        docstring says); read by ``decode_head.seen_calibration`` only."""
        self._seen_classes = None if names is None else tuple(names)

    @property
    def seen_classes(self) -> Optional[Tuple[str, ...]]:
        """The names the model was trained on, resolved as the module docstring says."""
        if self._seen_classes is not None:
            return self._seen_classes
        if self.vocabulary['train'] is not None:
            return self.vocabulary['train']
        classes = (self._checkpoint_meta or {}).get('classes')
        return None if classes is None else tuple(classes)

    def seen_mask(self, names: Sequence[str]) -> Tensor:
        """(K + 1,) bool: which of ``names`` (then "unlabeled", never seen) are seen.

        Raises:
            RuntimeError: The seen classes are unknown.
        """
        seen = self.seen_classes
        if seen is None:
            raise RuntimeError(
                'decode_head.seen_calibration needs the classes the model was trained on: '
                "test on a dataset whose metainfo has 'seen_classes', load a checkpoint "
                'saved by training, or call model.set_seen_classes(names)')
        seen = set(seen)
        return torch.tensor([n in seen for n in names] + [False])

    def vocabulary_embeddings(self, split: str) -> Tensor:
        """(K + 1, D) text embeddings of the split's vocabulary, "unlabeled" last."""
        return self.text_encoder(self.vocabulary_names(split) + (self.unlabeled_name, ))

    @property
    def num_classes(self) -> Optional[int]:
        """K, the size of the test vocabulary in use (None until one is known)."""
        names = self.vocabulary['test']
        return None if names is None else len(names)

    @property
    def out_channels(self) -> Optional[int]:
        """Channels of ``seg_logits``: one per test class (mmseg's slide inference reads it)."""
        return self.num_classes

    @property
    def dataset_meta(self) -> Optional[dict]:
        """``classes`` (the test vocabulary in use) and a ``palette`` of the same length."""
        names = self.vocabulary['test']
        if names is None:
            return self._checkpoint_meta
        meta = self._checkpoint_meta or {}
        palette = meta.get('palette')
        if tuple(meta.get('classes') or ()) != names or not palette:
            palette = [list(rgb) for rgb in palette_of(len(names))]
        return dict(classes=names, palette=palette)

    @dataset_meta.setter
    def dataset_meta(self, meta: Optional[dict]) -> None:
        """Keep a checkpoint's dataset classes as the default test vocabulary.

        mmseg's inferencer sets Cityscapes' classes when a checkpoint names none (or when
        there is no checkpoint, as for the no-training baseline); those are not taken as a
        vocabulary: the config's test dataset decides then.
        """
        meta = dict(meta or {})
        if meta.get('classes') is not None and tuple(meta['classes']) == tuple(
                get_classes('cityscapes')):
            meta.pop('classes')
        self._checkpoint_meta = meta

    # ---------------------------------------------------------------- post-processing
    def scores_to_labels(self, scores: Tensor) -> Tensor:
        """(K, H, W) class scores in [0, 1] -> (1, H, W) labels, "no label" below threshold."""
        best, labels = scores.max(dim=0, keepdim=True)
        return labels.masked_fill_(best < self.decode_head.mask_threshold,
                                   self.decode_head.ignore_index)

    @staticmethod
    def unpad(scores: Tensor, meta: dict) -> Tensor:
        """(K, H, W) scores on the padded network input -> (K, h, w) without padding, unflipped
        (still at the network's size)."""
        pad = meta.get('img_padding_size', meta.get('padding_size', [0] * 4))
        left, right, top, bottom = pad
        H, W = scores.shape[-2:]
        scores = scores[:, top:H - bottom, left:W - right]
        if meta.get('flip'):
            scores = scores.flip(dims=(-1, ) if meta['flip_direction'] == 'horizontal' else (-2, ))
        return scores

    def upsample_scores(self, scores: Tensor, size: Sequence[int]) -> Tensor:
        """(K, h, w) scores -> (K, H, W) at ``size``: bilinear, as mmseg resizes ``seg_logits``."""
        return resize(scores[None], size=tuple(size), mode='bilinear',
                      align_corners=self.align_corners, warning=False)[0]

    def _to_input_image(self, scores: Tensor, meta: dict) -> Tensor:
        """(K, H, W) scores on the padded network input -> (K, h, w) at ``ori_shape``."""
        return self.upsample_scores(self.unpad(scores, meta), meta['ori_shape'])

    def labels_at_size(self, scores: Tensor, size: Sequence[int]) -> Tensor:
        """The labels of ``scores_to_labels(upsample_scores(scores, size))`` without the K
        full-size score maps: one class at a time is upsampled into a running best.

        Upsampling works on each class alone, so every pixel's class scores are the same
        numbers as in the full (K, H, W) tensor, and a tie keeps the first class as ``max``
        does: the labels are identical. Memory: about five (H, W) maps instead of K.

        Args:
            scores: (K, h, w) class scores in [0, 1] at the network's size (:meth:`unpad`).
            size: (H, W) of the labels.

        Returns:
            (H, W) int64 labels, ``decode_head.ignore_index`` below the mask threshold.
        """
        best = self.upsample_scores(scores[:1], size)[0]
        labels = torch.zeros(best.shape, dtype=torch.int32, device=best.device)
        for k in range(1, scores.shape[0]):
            score = self.upsample_scores(scores[k:k + 1], size)[0]
            better = score > best  # strict: a tie keeps the earlier class
            labels.masked_fill_(better, k)
            best = torch.where(better, score, best)
            del score, better
        labels = labels.long()
        return labels.masked_fill_(best < self.decode_head.mask_threshold,
                                   self.decode_head.ignore_index)

    def postprocess_result(self, seg_logits: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        """Class scores -> ``seg_logits`` and ``pred_sem_seg`` at each image's original size.

        Args:
            seg_logits: (B, K, H, W) per-class scores in [0, 1] on the padded input.
            data_samples: Their samples; the metainfo gives padding, flip and ``ori_shape``.
                Without samples the scores are labelled at the input size.

        Raises:
            ValueError: A sample's ground truth holds ids outside the test vocabulary.
        """
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(seg_logits.shape[0])]
        num_classes, ignore = seg_logits.shape[1], self.decode_head.ignore_index
        for scores, sample in zip(seg_logits, data_samples):
            if 'gt_sem_seg' in sample:
                check_label_ids(sample.gt_sem_seg.data, num_classes=num_classes,
                                ignore_index=ignore,
                                names=[sample.metainfo.get('seg_map_path', 'label map')])
            if 'ori_shape' in sample.metainfo:
                scores = self._to_input_image(scores, sample.metainfo)
            sample.set_data(dict(seg_logits=PixelData(data=scores),
                                 pred_sem_seg=PixelData(data=self.scores_to_labels(scores))))
        return data_samples

    @abstractmethod
    def extract_feat(self, inputs: Tensor,
                     batch_img_metas: Optional[List[dict]] = None) -> CoSegFeatures:
        """The head's input for ``inputs`` (B, 3, H, W); the metas say where each image is."""

    def head_outputs(self, inputs: Tensor,
                     batch_img_metas: Optional[List[dict]] = None) -> HeadOutputs:
        """The decode head's outputs for ``inputs`` (B, 3, H, W) at inference: what
        :meth:`encode_decode` scores and :meth:`_forward` returns."""
        return self.decode_head.forward(self.extract_feat(inputs, batch_img_metas))

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """(B, K, H, W) class scores at the input size."""
        return self.decode_head.predict_by_feat(self.head_outputs(inputs, batch_img_metas),
                                                batch_img_metas)

    def _forward(self, inputs: Tensor, data_samples: OptSampleList = None) -> HeadOutputs:
        """Raw head outputs; pass ``data_samples`` to see the images as :meth:`predict` does."""
        self.load_unloaded_pretrained()
        metas = None if data_samples is None else [s.metainfo for s in data_samples]
        return self.head_outputs(inputs, metas)
