"""CoSegNoTrain: the paper's no-training baseline (CLIP ranks labels, CLIPSeg draws masks)."""
import logging
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmseg.registry import MODELS
from torch import Tensor

from ..features import CoSegFeatures
from ..text_encoders import check_templates
from ..utils.clip_inputs import clip_rank_inputs
from .coseg_base import CoSegBase

RANKINGS = ('separate', 'shared')


@MODELS.register_module()
class CoSegNoTrain(CoSegBase):
    """CLIP picks the top-N class names of the image; pretrained CLIPSeg makes their masks.

    Paper, sections 3.3 and 3.6: the CLIP image embedding is compared with the text embeddings
    ("a photo of a {}.") of every class of the vocabulary, the N most similar are kept, and
    CLIPSeg (rd64-refined) makes one mask per kept label; masks are thresholded at
    ``decode_head.mask_threshold`` and combined as in :class:`CoSeg`. Its slots are the N
    ranked labels: slot n is named by construction (``slot_classes``), not by its embedding.
    Nothing is trained: there is no neck and no training vocabulary.

    The paper runs CLIPSeg once per label; the image encoder gives the same result every time,
    so here the image is encoded once and the N conditionals are decoded as one batch — same
    masks, a fraction of the work. Each CLIP pass also stops at what is read of it: with a
    ``rank_backbone`` the segmentation pass ends after the deepest of
    ``backbone.out_indices``, and a pass that only ranks computes its last block for the CLS
    token alone.

    Inputs: the data preprocessor prepares CLIPSeg's input (ImageNet's statistics, 352 x 352
    squashed, as ``CLIPSegProcessor``). The ranking pass sees what CLIP expects, made from the
    decoded image file by the pipeline's ``CLIPRankView`` (shortest edge to ``rank_size``, PIL
    bicubic, centre crop, CLIP's statistics: ``CLIPImageProcessor``'s steps) and packed in each
    sample's metainfo under ``rank_key`` (:meth:`rank_inputs`). Without that view (a pipeline
    that lacks the transform, or tensors passed directly) it is derived from CLIPSeg's input
    instead (:func:`~coseg_mmseg.models.utils.clip_inputs.clip_rank_inputs`: the original
    located through ``img_shape`` / ``ori_shape``, resampled a second time), an approximation
    that is logged once. The shared ranking (``rank_backbone=None``) is an approximation too:
    CLIP's pooled embedding of the 352 x 352 squash with ImageNet's statistics, not of CLIP's
    own input. Both are made for ``test_cfg.mode='whole'`` (the configs').

    Args:
        backbone: CLIPSeg's CLIP image encoder (:class:`FrozenCLIPBackbone`, ``out_indices``
            = CLIPSeg's ``extract_layers``), run at the input size (352 for rd64-refined).
        decode_head: CLIPSeg's decoder (:class:`FiLMCLIPSegHead`).
        text_encoder: CLIP text tower ranking the labels (unit-norm, template ensemble).
        cond_text_encoder: CLIPSeg's text tower giving the conditioning embeddings (raw
            projected features); ``None`` uses ``text_encoder``'s tower.
        rank_backbone: CLIP image encoder for the ranking, run at ``rank_size`` (the paper's
            separate pass); ``None`` ranks with the pooled embedding of ``backbone``'s pass
            (which sees CLIPSeg's input: the whole image, squashed, ImageNet's statistics).
        rank_size: Input side of the ranking pass (``CLIPRankView``'s ``size``).
        rank_key: The metainfo key holding ``CLIPRankView``'s view.
        num_slots: N, the labels kept per image (20); the whole vocabulary when it is smaller.
        cond_templates: Templates of the CLIPSeg prompts.
        **kwargs: ``test_vocabulary``, ``unlabeled_name``, ``save_frozen_weights``,
            ``test_cfg``, ``data_preprocessor``, ``pretrained``, ``init_cfg``: see
            :class:`CoSegBase`.
    """

    def __init__(self, *, backbone: dict, decode_head: dict, text_encoder: dict,
                 cond_text_encoder: Optional[dict] = None, rank_backbone: Optional[dict] = None,
                 rank_size: int = 224, rank_key: str = 'clip_rank_input', num_slots: int = 20,
                 cond_templates: Sequence[str] = ('{}', ), **kwargs) -> None:
        super().__init__(backbone=backbone, decode_head=decode_head, text_encoder=text_encoder,
                         **kwargs)
        if num_slots < 1:
            raise ValueError(f'model.num_slots must be >= 1, got {num_slots}')
        self.cond_text_encoder = (None if cond_text_encoder is None else
                                  MODELS.build(cond_text_encoder))
        self.rank_backbone = None if rank_backbone is None else MODELS.build(rank_backbone)
        self.rank_size = rank_size
        self.rank_key = rank_key
        self._warned_derived = False
        self.num_slots = num_slots
        self.cond_templates = check_templates(cond_templates)
        self.decode_head.requires_grad_(False)  # CLIPSeg's decoder, pretrained as the rest
        self.save_frozen_references()

    @property
    def ranking(self) -> str:
        """``'separate'`` (own CLIP pass at ``rank_size``) or ``'shared'`` (CLIPSeg's pass)."""
        return 'shared' if self.rank_backbone is None else 'separate'

    def rank_inputs(self, inputs: Tensor,
                    batch_img_metas: Optional[List[dict]] = None) -> Tensor:
        """The ranking pass's input: ``CLIPRankView``'s view of each file when packed.

        Args:
            inputs: (B, 3, H, W) images normalised by ``data_preprocessor`` (its ``mean`` /
                ``std``, read here; none: pixels).
            batch_img_metas: Per image ``rank_key`` (the view, (3, rank_size, rank_size)), or
                else ``img_shape`` (the resized image inside the padded input) and
                ``ori_shape`` (the file's); ``None``, or a key missing: the input is taken as
                the image itself.

        Returns:
            (B, 3, rank_size, rank_size) CLIP-normalised centre crops.

        Raises:
            ValueError: A packed view is not ``rank_size`` square.
        """
        metas = batch_img_metas or [{}] * inputs.shape[0]
        if metas and all(self.rank_key in meta for meta in metas):
            views = torch.stack([torch.as_tensor(meta[self.rank_key]) for meta in metas])
            if tuple(views.shape[1:]) != (3, self.rank_size, self.rank_size):
                raise ValueError(
                    f'CoSegNoTrain: the pipeline\'s {self.rank_key} is '
                    f'{tuple(views.shape[1:])}, the model ranks at rank_size={self.rank_size}: '
                    f'set CLIPRankView\'s size to {self.rank_size}')
            return views.to(device=inputs.device, dtype=inputs.dtype)
        if not self._warned_derived:
            self._warned_derived = True
            print_log(f'CoSegNoTrain: no {self.rank_key} in the samples (add CLIPRankView to '
                      f'the test pipeline and {self.rank_key!r} to PackSegInputs\' meta_keys); '
                      f'the ranking input is derived from the segmentation input, an '
                      f'approximation of CLIP\'s preprocessing', logger='current',
                      level=logging.WARNING)
        img_shapes = [meta.get('img_shape', inputs.shape[-2:]) for meta in metas]
        ori_shapes = [meta.get('ori_shape', shape) for meta, shape in zip(metas, img_shapes)]
        pre = self.data_preprocessor
        return clip_rank_inputs(inputs, input_mean=getattr(pre, 'mean', None),
                                input_std=getattr(pre, 'std', None), size=self.rank_size,
                                img_shapes=img_shapes, ori_shapes=ori_shapes)

    def rank_labels(self, inputs: Tensor, image_embed: Optional[Tensor], vocab: Tensor,
                    batch_img_metas: Optional[List[dict]] = None) -> Tensor:
        """Indices (B, N) of the N classes most similar to each image, best first.

        Args:
            inputs: (B, 3, H, W) images normalised by ``data_preprocessor``.
            image_embed: (B, D) pooled embedding of the segmentation pass; ``None`` with a
                ``rank_backbone``.
            vocab: (K, D) unit-norm text embeddings.
            batch_img_metas: As in :meth:`rank_inputs`.
        """
        if self.rank_backbone is not None:
            image_embed = self.rank_backbone(self.rank_inputs(inputs, batch_img_metas),
                                             final='image_embed')['image_embed']  # (B, D)
        sims = F.normalize(image_embed, dim=-1) @ vocab.t()  # (B, K)
        return sims.topk(min(self.num_slots, vocab.shape[0]), dim=1).indices

    def extract_feat(self, inputs: Tensor,
                     batch_img_metas: Optional[List[dict]] = None) -> CoSegFeatures:
        """CLIPSeg's activations plus the top-N labels as slots.

        Args:
            inputs: (B, 3, H, W) images normalised by ``data_preprocessor``.
            batch_img_metas: Where the ranking pass finds each original image
                (:meth:`rank_inputs`).

        Returns:
            The backbone's features with ``slot_embeds`` (B, N, D) the labels' CLIPSeg
            conditionals, ``slot_classes`` (B, N) their class indices and ``vocab_embeds``
            (K + 1, D).
        """
        # CLIPSeg reads blocks out_indices only; the shared ranking adds the pooled embedding.
        feats = self.backbone(inputs, final='none' if self.ranking == 'separate' else 'image_embed')
        vocab = self.vocabulary_embeddings('test')  # (K + 1, D), "unlabeled" last
        top = self.rank_labels(inputs, feats.get('image_embed'), vocab[:-1],
                               batch_img_metas)  # (B, N)
        cond_encoder = self.cond_text_encoder or self.text_encoder
        cond = cond_encoder.encode(self.vocabulary_names('test'), templates=self.cond_templates,
                                   normalize=False)  # (K, D)
        feats.update(slot_embeds=cond[top], slot_classes=top, vocab_embeds=vocab)
        return feats
