"""CoSeg: frozen CLIP + coexistence tokens + FiLM CLIPSeg decoder, as an mmseg segmentor."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from ..backbones.frozen_clip_backbone import FrozenCLIPBackbone
from ..features import BackboneFeatures, CoSegFeatures, HeadOutputs
from ..utils.feature_cache import FeatureCache, split_batch, stack_batch
from .coseg_base import CoSegBase


@MODELS.register_module()
class CoSeg(CoSegBase):
    """Open-vocabulary segmentation through semantic coexistence (Tu et al.).

    ``backbone`` (frozen CLIP image encoder) -> ``neck`` (N coexistence tokens predict N slot
    embeddings) -> ``decode_head`` (one mask per slot embedding). Label embeddings come from the
    frozen ``text_encoder``: the training vocabulary gives the targets of the contrastive loss,
    the test vocabulary names the slots at inference (:class:`CoSegBase` says how the
    vocabularies are found and how scores become labels).

    Args:
        backbone: Backbone config (:class:`FrozenCLIPBackbone`, or an mmseg backbone followed by
            a :class:`FeatureMapAdapter` in ``neck``).
        neck: Neck config (:class:`CoexistenceNeck`), or a list (adapter, neck).
        decode_head: Head config (:class:`FiLMCLIPSegHead`).
        text_encoder: Text encoder config (:class:`FrozenCLIPTextEncoder`).
        feature_cache: ``dict(cache_dir=..., dtype='float16')`` to store the frozen backbone's
            outputs per training image and read them back in later epochs; only for a
            deterministic training pipeline (checked). See :class:`FeatureCache`.
        **kwargs: ``vocabulary``, ``test_vocabulary``, ``unlabeled_name``,
            ``save_frozen_weights``, ``train_cfg``, ``test_cfg``, ``data_preprocessor``,
            ``pretrained``, ``init_cfg``: see :class:`CoSegBase`.
    """

    def __init__(self, *, backbone: dict, neck: dict, decode_head: dict, text_encoder: dict,
                 feature_cache: Optional[dict] = None, **kwargs) -> None:
        if neck is None:
            raise ValueError("CoSeg needs model.neck (dict(type='CoexistenceNeck', ...)): the "
                             "coexistence tokens")
        super().__init__(backbone=backbone, neck=neck, decode_head=decode_head,
                         text_encoder=text_encoder, **kwargs)
        self.feature_cache = (None if feature_cache is None else
                              FeatureCache(**feature_cache, backbone=self.backbone))
        if (getattr(self.decode_head, 'region_naming_weight', 0)
                and not isinstance(self.backbone, FrozenCLIPBackbone)):
            raise ValueError(f'decode_head.region_naming_weight needs CLIP\'s image embedding '
                             f'of each masked slot: model.backbone must be a '
                             f'FrozenCLIPBackbone, not {type(self.backbone).__name__}; set '
                             f'region_naming_weight=0')
        self.save_frozen_references()

    def backbone_features(self, inputs: Tensor,
                          data_samples: Optional[SampleList] = None) -> BackboneFeatures:
        """The backbone's outputs, read from ``feature_cache`` when every image has them
        (training only: the cache is keyed on the samples)."""
        if self.feature_cache is None or data_samples is None:
            return self.backbone(inputs)
        cached = [self.feature_cache.get(s, image) for s, image in zip(data_samples, inputs)]
        if all(c is not None for c in cached):
            return stack_batch(cached, device=inputs.device, dtype=inputs.dtype)
        feats = self.backbone(inputs)
        for sample, image, single in zip(data_samples, inputs,
                                         split_batch(feats, inputs.shape[0])):
            self.feature_cache.put(sample, image, single)
        return feats

    def neck_features(self, feats: BackboneFeatures, *, split: Optional[str] = None,
                      vocab_embeds: Optional[Tensor] = None) -> CoSegFeatures:
        """The head's inputs from the backbone's outputs: the neck's, plus ``vocab_embeds``.

        Args:
            feats: The backbone's outputs.
            split: Whose vocabulary: ``'train'`` or ``'test'``; ``None`` follows the mode
                (``'train'`` when training, else ``'test'``).
            vocab_embeds: (K + 1, D) embeddings to use instead of the split's (the ONNX graph
                takes them as an input).

        With ``decode_head.seen_calibration`` the test split's features also hold
        ``seen_mask`` (K + 1,): which names were trained on.
        """
        feats = self.neck(feats)
        if vocab_embeds is None:
            split = split or ('train' if self.training else 'test')
            vocab_embeds = self.vocabulary_embeddings(split)
            if split == 'test' and getattr(self.decode_head, 'seen_calibration', 0):
                feats['seen_mask'] = self.seen_mask(
                    self.vocabulary_names('test')).to(vocab_embeds.device)
        feats['vocab_embeds'] = vocab_embeds
        return feats

    def extract_feat(self, inputs: Tensor, batch_img_metas: Optional[List[dict]] = None, *,
                     split: Optional[str] = None, vocab_embeds: Optional[Tensor] = None,
                     data_samples: Optional[SampleList] = None) -> CoSegFeatures:
        """The head's inputs: backbone -> neck -> vocabulary embeddings (mmseg's
        ``EncoderDecoder.extract_feat``). Training, inference, the ONNX graph and the benchmarks
        all build them here.

        Args:
            inputs: (B, 3, H, W) normalised images.
            batch_img_metas: Unused: CoSeg reads the whole input.
            split: See :meth:`neck_features`.
            vocab_embeds: See :meth:`neck_features`.
            data_samples: The batch's samples, for the training ``feature_cache``.

        Returns:
            The neck's features (``slot_embeds`` (B, N, D), the backbone's maps) and
            ``vocab_embeds`` (K + 1, D).
        """
        return self.neck_features(self.backbone_features(inputs, data_samples), split=split,
                                  vocab_embeds=vocab_embeds)

    def head_outputs(self, inputs: Tensor,
                     batch_img_metas: Optional[List[dict]] = None) -> HeadOutputs:
        """The head's outputs at inference, with ``region_embeds`` when
        ``decode_head.region_naming_weight`` is set (:meth:`region_embeddings`)."""
        outputs = super().head_outputs(inputs, batch_img_metas)
        if getattr(self.decode_head, 'region_naming_weight', 0):
            outputs['region_embeds'] = self.region_embeddings(inputs, outputs['mask_logits'])
        return outputs

    @torch.no_grad()
    def region_embeddings(self, inputs: Tensor, mask_logits: Tensor) -> Tensor:
        """CLIP's pooled embedding of each slot's masked image (ZegFormer's segment view).

        Each slot keeps the pixels where its mask probability exceeds 0.5; every other pixel
        is set to 0 in the normalised input, CLIP's mean colour. The frozen backbone embeds
        the B * N masked images (its pooled ``image_embed``).

        Args:
            inputs: (B, 3, H, W) normalised images.
            mask_logits: (B, N, H', W') the slots' mask logits.

        Returns:
            (B, N, D) embeddings; zeros for a slot whose mask is empty.
        """
        B, N = mask_logits.shape[:2]
        if mask_logits.shape[-2:] != inputs.shape[-2:]:
            mask_logits = F.interpolate(mask_logits, size=inputs.shape[-2:], mode='bilinear',
                                        align_corners=self.align_corners)
        keep = mask_logits > 0  # (B, N, H, W): probability above 0.5
        masked = (inputs[:, None] * keep[:, :, None].to(inputs.dtype)).flatten(0, 1)
        embeds = self.backbone(masked, final='image_embed')['image_embed'].unflatten(0, (B, N))
        return embeds * keep.flatten(2).any(-1, keepdim=True).to(embeds.dtype)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """mmseg's losses, refusing to return a NaN/inf one (the step would ruin the weights).

        Raises:
            FloatingPointError: Naming the loss term and the images of the batch.
        """
        feats = self.extract_feat(inputs, split='train', data_samples=data_samples)
        losses = self._decode_head_forward_train(feats, data_samples)
        for name, value in losses.items():
            if 'loss' in name and not torch.isfinite(value).all():
                images = [s.metainfo.get('img_path', '?') for s in data_samples]
                raise FloatingPointError(
                    f'{name} is {value.item()} on the batch {images}; the weights were not '
                    f'updated and the last checkpoint is intact. Lower the learning rate, try '
                    f'--amp off, or check these images and their label maps')
        return losses
