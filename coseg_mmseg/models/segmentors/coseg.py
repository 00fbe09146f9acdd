"""CoSeg: frozen CLIP + coexistence tokens + FiLM CLIPSeg decoder, as an mmseg segmentor."""
from typing import Dict, Optional, Sequence

import torch
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor

from ...datasets.vocabularies import get_vocabulary
from ..text_encoders import check_vocabulary
from ..utils.feature_cache import FeatureCache, split_batch, stack_batch
from ..utils.frozen_weights import is_frozen_pretrained, save_frozen_as_reference


@MODELS.register_module()
class CoSeg(EncoderDecoder):
    """Open-vocabulary segmentation through semantic coexistence (Tu et al.).

    ``backbone`` (frozen CLIP image encoder) -> ``neck`` (N coexistence tokens predict N CLIP
    embeddings) -> ``decode_head`` (one mask per embedding). Label embeddings come from the
    frozen ``text_encoder``: the training vocabulary gives the targets of the contrastive loss,
    the test vocabulary names the slots at inference.

    Vocabularies: ``vocabulary`` / ``test_vocabulary`` fix them in the config; left ``None``,
    they are taken from the datasets' ``metainfo['classes']`` by
    :class:`~coseg_mmseg.engine.CoSegVocabularyHook` (or :meth:`set_vocabulary`). A fixed
    vocabulary must have as many names as the dataset has classes, in the same order.

    Inference returns ``seg_logits`` (K, H, W) for the K test classes, so mmseg's
    ``postprocess_result`` and ``IoUMetric`` work unchanged; pixels where no slot's mask
    probability reaches ``decode_head.mask_threshold`` get no label: they are set to
    ``decode_head.ignore_index`` in ``pred_sem_seg``, which ``IoUMetric`` counts as a miss.

    Args:
        backbone: Backbone config (:class:`FrozenCLIPBackbone`).
        neck: Neck config (:class:`CoexistenceNeck`).
        decode_head: Head config (:class:`FiLMCLIPSegHead`).
        text_encoder: Text encoder config (:class:`FrozenCLIPTextEncoder`).
        vocabulary: Training class names or a vocabulary name (``'coco_stuff'``, see
            :mod:`coseg_mmseg.datasets.vocabularies`); None uses the training dataset's.
        test_vocabulary: Test class names (natural words) or a vocabulary name
            (``'pascal_context_459'``); None uses the test dataset's.
        unlabeled_name: Name whose embedding stands for "no class" (pads the targets).
        save_frozen_weights: Copy the frozen pretrained modules (CLIP) into every checkpoint.
            By default a checkpoint holds only a reference to them (their ``init_cfg``) and
            loading it reloads them from there (:mod:`coseg_mmseg.models.utils.frozen_weights`).
        feature_cache: ``dict(cache_dir=..., dtype='float16')`` to store the frozen backbone's
            outputs per training image and read them back in later epochs; only for a
            deterministic training pipeline (checked). See :class:`FeatureCache`.
        train_cfg, test_cfg, data_preprocessor, init_cfg: As in mmseg's ``EncoderDecoder``.
    """

    requires_neck = True  # the coexistence tokens; CoSegNoTrain ranks labels instead

    def __init__(self, *, backbone: dict, decode_head: dict, text_encoder: dict,
                 neck: Optional[dict] = None,
                 vocabulary: Optional[Sequence[str]] = None,
                 test_vocabulary: Optional[Sequence[str]] = None,
                 unlabeled_name: str = 'unlabeled', save_frozen_weights: bool = False,
                 feature_cache: Optional[dict] = None, train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if self.requires_neck and neck is None:
            raise ValueError(f"{type(self).__name__} needs model.neck (dict(type="
                             f"'CoexistenceNeck', ...)): the coexistence tokens")
        super().__init__(backbone=backbone, decode_head=decode_head, neck=neck,
                         train_cfg=train_cfg, test_cfg=test_cfg,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.text_encoder = MODELS.build(text_encoder)
        self.unlabeled_name = unlabeled_name
        self.fixed_vocabulary = {
            'train': None if vocabulary is None else check_vocabulary(
                get_vocabulary(vocabulary), what='model.vocabulary'),
            'test': None if test_vocabulary is None else check_vocabulary(
                get_vocabulary(test_vocabulary), what='model.test_vocabulary'),
        }
        self.vocabulary: Dict[str, Optional[tuple]] = dict(self.fixed_vocabulary)
        if self.vocabulary['test'] is not None:
            self.out_channels = len(self.vocabulary['test'])
        self.save_frozen_weights = save_frozen_weights
        self.feature_cache = None if feature_cache is None else FeatureCache(**feature_cache)
        self._save_frozen_as_references()

    def _save_frozen_as_references(self) -> None:
        """Register the frozen pretrained children to be saved as references."""
        if not self.save_frozen_weights:
            for child in self.children():
                if is_frozen_pretrained(child):
                    save_frozen_as_reference(child)

    def set_vocabulary(self, names: Sequence[str], *, split: str) -> None:
        """Use ``names`` (or a vocabulary name) as the ``'train'`` or ``'test'`` vocabulary."""
        if split not in self.vocabulary:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        names = check_vocabulary(get_vocabulary(names), what=f'{split} vocabulary')
        check_vocabulary(names + (self.unlabeled_name, ),
                         what=f'{split} vocabulary + unlabeled_name')
        self.vocabulary[split] = names
        if split == 'test':
            self.out_channels = len(names)

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
            key = 'model.vocabulary' if split == 'train' else 'model.test_vocabulary'
            raise ValueError(f'{key} has {len(fixed)} names but {dataset} has {len(classes)} '
                             f'classes; give one name per class, in the dataset\'s order')

    def vocabulary_embeddings(self, split: str) -> Tensor:
        """(K + 1, D) text embeddings of the split's vocabulary, "unlabeled" last."""
        names = self.vocabulary[split]
        if names is None:
            key = 'model.vocabulary' if split == 'train' else 'model.test_vocabulary'
            raise RuntimeError(
                f'CoSeg has no {split} vocabulary: set {key} in the config, keep '
                f"dict(type='CoSegVocabularyHook') in custom_hooks (it reads the dataset's "
                f"metainfo['classes']), or call model.set_vocabulary(names, split={split!r})")
        return self.text_encoder(names + (self.unlabeled_name, ))

    def backbone_features(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, object]:
        """The backbone's outputs, read from ``feature_cache`` when every image has them."""
        if self.feature_cache is None:
            return self.backbone(inputs)
        cached = [self.feature_cache.get(s, image) for s, image in zip(data_samples, inputs)]
        if all(c is not None for c in cached):
            return stack_batch(cached, device=inputs.device, dtype=inputs.dtype)
        feats = self.backbone(inputs)
        for sample, image, single in zip(data_samples, inputs,
                                         split_batch(feats, inputs.shape[0])):
            self.feature_cache.put(sample, image, single)
        return feats

    def extract_feat(self, inputs: Tensor) -> Dict[str, object]:
        """Backbone + neck outputs, plus ``vocab_embeds`` of the current split.

        Args:
            inputs: (B, 3, H, W) normalised images.

        Returns:
            The backbone dict with ``embeds`` (B, N, D) and ``vocab_embeds`` (K + 1, D).
        """
        feats = self.neck(self.backbone(inputs))
        feats['vocab_embeds'] = self.vocabulary_embeddings('train' if self.training else 'test')
        return feats

    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """mmseg's losses, refusing to return a NaN/inf one (the step would ruin the weights).

        Raises:
            FloatingPointError: Naming the loss term and the images of the batch.
        """
        feats = self.neck(self.backbone_features(inputs, data_samples))
        feats['vocab_embeds'] = self.vocabulary_embeddings('train')
        losses = self._decode_head_forward_train(feats, data_samples)
        for name, value in losses.items():
            if 'loss' in name and not torch.isfinite(value).all():
                images = [s.metainfo.get('img_path', '?') for s in data_samples]
                raise FloatingPointError(
                    f'{name} is {value.item()} on the batch {images}; the weights were not '
                    f'updated and the last checkpoint is intact. Lower the learning rate, try '
                    f'--amp off, or check these images and their label maps')
        return losses

    def postprocess_result(self, seg_logits: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        """mmseg's post-processing, then "no label" where no class reaches the threshold."""
        num_classes, ignore = seg_logits.shape[1], self.decode_head.ignore_index
        for sample in data_samples or []:
            if 'gt_sem_seg' in sample:  # IoUMetric would silently drop out-of-range ids
                gt = sample.gt_sem_seg.data
                bad = gt[(gt != ignore) & ((gt < 0) | (gt >= num_classes))]
                if bad.numel():
                    raise ValueError(
                        f"{sample.metainfo.get('seg_map_path', 'label map')} holds class ids "
                        f'{sorted(set(bad.tolist()))[:10]} outside the test vocabulary of '
                        f'{num_classes} classes (ignore index {ignore})')
        data_samples = super().postprocess_result(seg_logits, data_samples)
        threshold = self.decode_head.mask_threshold
        for sample in data_samples:
            scores = sample.seg_logits.data  # (K, H, W), at the original image size
            pred = sample.pred_sem_seg.data  # (1, H, W)
            pred[scores.amax(dim=0, keepdim=True) < threshold] = self.decode_head.ignore_index
        return data_samples

    def _forward(self, inputs: Tensor,
                 data_samples: OptSampleList = None) -> Dict[str, Tensor]:
        """Raw head outputs (``mask_logits``, ``slot_embeds``, ...), without post-processing."""
        return self.decode_head.forward(self.extract_feat(inputs))
