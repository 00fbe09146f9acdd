"""What flows between CoSeg's components, written once.

``backbone -> (adapter) -> neck -> head`` pass one dict along, each adding its keys; the head's
``forward`` returns :class:`HeadOutputs`. Shapes use

- B: images in the batch; C: width of the backbone's activations (768 for ViT-B/16);
- L = h * w: patch tokens on the (h, w) patch grid (CLS excluded);
- M: extracted activations (CLIPSeg's ``extract_layers``, 3);
- D: width of CLIP's joint image-text space (512);
- N: slots (``num_slots``): the coexistence tokens of CoSeg, the top-ranked labels of the
  no-training baseline; each slot has one embedding, one mask and one label;
- K: classes of the vocabulary in use; index K is "unlabeled".

The words: *visual tokens* are CLIP's output tokens of the image (``visual_tokens``); the
*coexistence tokens* are the neck's N learnable queries (``CoexistenceNeck.slot_queries``),
which become the N *slot embeddings* (``slot_embeds``); *text tokens* are BPE ids of prompts,
seen only inside the text encoder.
"""
from typing import List, Optional, Tuple, TypedDict

from torch import Tensor


class BackboneFeatures(TypedDict, total=False):
    """What the backbone (or :class:`FeatureMapAdapter`) gives.

    Keys:
        layers: M activations (B, L, C), shallow to deep: what the decoder reads.
        layers_cls: M CLS tokens (B, C) of the same blocks, or None (CNN backbones).
        grid: (h, w), the patch grid.
        visual_tokens: (B, L, D) final tokens in CLIP's joint space: what the neck reads by
            default (``neck.in_key`` may name ``layers`` instead).
        image_embed: (B, D) CLIP's pooled image embedding (the baseline's shared ranking).
    """
    layers: List[Tensor]
    layers_cls: Optional[List[Tensor]]
    grid: Tuple[int, int]
    visual_tokens: Tensor
    image_embed: Tensor


class CoSegFeatures(BackboneFeatures, total=False):
    """The head's input: the backbone's features plus the slots and the vocabulary.

    Keys:
        slot_embeds: (B, N, D) one CLIP-space embedding per slot: what the decoder is
            conditioned on (FiLM) and what names the slot.
        slot_classes: (B, N) class index of each slot when the segmentor fixed it (the
            baseline's ranking); absent when slots are named by their embeddings.
        vocab_embeds: (K + 1, D) text embeddings of the vocabulary in use, "unlabeled" last.
        seen_mask: (K + 1,) bool, which names of the vocabulary the model was trained on;
            only at inference with ``decode_head.seen_calibration`` set.
    """
    slot_embeds: Tensor
    slot_classes: Tensor
    vocab_embeds: Tensor
    seen_mask: Tensor


class HeadOutputs(TypedDict, total=False):
    """What :meth:`FiLMCLIPSegHead.forward` returns.

    Keys:
        mask_logits: (B, N, H, W) one mask per slot, at the input size.
        slot_embeds, slot_classes, vocab_embeds, seen_mask: passed through from
            :class:`CoSegFeatures`.
        region_embeds: (B, N, D) CLIP's pooled embedding of each slot's masked image (zeros
            for a slot whose mask is empty); added by the segmentor at inference, only with
            ``decode_head.region_naming_weight`` set.
    """
    mask_logits: Tensor
    region_embeds: Tensor
    slot_embeds: Tensor
    slot_classes: Tensor
    vocab_embeds: Tensor
    seen_mask: Tensor
