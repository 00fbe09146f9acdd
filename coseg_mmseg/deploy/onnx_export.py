"""Export CoSeg's image -> per-class scores graph to ONNX.

:class:`CoSegScoresGraph` is the part of a :class:`~coseg_mmseg.models.CoSeg` that runs per
image: normalisation, backbone, neck (the N slot embeddings), decode head (N masks) and the
slot-to-class scores. The vocabulary's text embeddings are a graph *input*: one exported file
serves any vocabulary, whose embeddings the text encoder computes once (in PyTorch,
:func:`vocabulary_embeddings`) and which can be stored beside the file. The text encoder stays
out of the graph: it needs CLIP's BPE tokenizer, which is Python, and runs once per
vocabulary rather than once per image.

Graph (dynamic axes in brackets)::

    inputs   image         float32 [B, 3, H, W]  RGB, 0..255, H and W multiples of the patch
             vocab_embeds  float32 [K + 1, D]    text embeddings, "unlabeled" last
    outputs  scores        float32 [B, K, H, W]  per-class scores in 0..1
             mask_logits   float32 [B, N, H, W]  the N slots' mask logits
             slot_classes  int64   [B, N]        each slot's class index (K: "unlabeled")

A pixel's label is ``scores.argmax(1)``, or none where ``scores.max(1) <
mask_threshold`` (stored in the file's metadata with the normalisation and the names of the
vocabulary used at export).
"""
import json
from typing import Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn


INPUT_NAMES = ('image', 'vocab_embeds')
OUTPUT_NAMES = ('scores', 'mask_logits', 'slot_classes')
OPSET = 18  # ScatterElements with reduction='max' (the slots' scores per class)


class CoSegScoresGraph(nn.Module):
    """A trained CoSeg from raw RGB pixels and vocabulary embeddings to per-class scores.

    Holds the model's ``backbone``, ``neck`` and ``decode_head`` (shared, not copied) and its
    data preprocessor's mean and std; the same values as the model's own inference
    (:meth:`CoSeg._forward` then ``decode_head.slot_scores``) on the normalised image.

    Args:
        model: A :class:`~coseg_mmseg.models.CoSeg` (prefix or xatten neck), in eval mode.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        if getattr(model, 'neck', None) is None or not hasattr(model, 'text_encoder'):
            raise ValueError(f'{type(model).__name__} cannot be exported: CoSegScoresGraph '
                             f'needs a CoSeg model with a neck (prefix or xatten)')
        self.backbone = model.backbone
        self.neck = model.neck
        self.head = model.decode_head
        # The model's own assembly of the head's inputs (a bound method, not a submodule: the
        # graph holds no text encoder).
        self.extract_feat = model.extract_feat
        pre = model.data_preprocessor
        # The pipeline loads BGR; the model sees RGB when the preprocessor swaps channels.
        self.rgb_input_is_model_order = bool(getattr(pre, 'channel_conversion', False))
        self.register_buffer('mean', pre.mean.detach().clone().float().view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer('std', pre.std.detach().clone().float().view(1, 3, 1, 1),
                             persistent=False)
        self.patch_size = int(self.backbone.visual.patch_size)
        self.native_grid = int(self.backbone.visual.grid_size)

    def normalize(self, image: Tensor) -> Tensor:
        """(B, 3, H, W) RGB 0..255 -> what the data preprocessor gives the backbone."""
        if not self.rgb_input_is_model_order:
            image = image.flip(1)
        return (image - self.mean) / self.std

    def head_outputs(self, inputs: Tensor, vocab_embeds: Tensor) -> Dict[str, Tensor]:
        """The decode head's output dict for normalised images, from the head's inputs as the
        model builds them (:meth:`CoSeg.extract_feat`).

        Args:
            inputs: (B, 3, H, W) normalised images.
            vocab_embeds: (K + 1, D).

        Returns:
            dict with ``mask_logits`` (B, N, H, W), ``slot_embeds`` (B, N, D) and
            ``vocab_embeds`` (K + 1, D).
        """
        return self.head(self.extract_feat(inputs, vocab_embeds=vocab_embeds))

    def forward(self, image: Tensor, vocab_embeds: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Per-class scores of a batch of images.

        Args:
            image: (B, 3, H, W) float RGB in 0..255, H and W multiples of the patch size.
            vocab_embeds: (K + 1, D) text embeddings, "unlabeled" last.

        Returns:
            ``scores`` (B, K, H, W), ``mask_logits`` (B, N, H, W) and ``slot_classes``
            (B, N) int64: each slot's nearest class (K for "unlabeled"), the rule of
            ``decode_head.slot_scores``.
        """
        out = self.head_outputs(self.normalize(image), vocab_embeds)
        slot_classes = self.head.name_slots(out).argmax(-1)  # (B, N)
        return self.head.slot_scores(out), out['mask_logits'], slot_classes


def trace_size(graph: CoSegScoresGraph, size: Tuple[int, int]) -> Tuple[int, int]:
    """The example size to trace at: ``size``, or one patch more when it is the native grid.

    At CLIP's pretraining grid the backbone skips the interpolation of its position
    embeddings; a graph traced there would not accept other sizes.
    """
    p, g = graph.patch_size, graph.native_grid
    h, w = size
    if (h // p, w // p) == (g, g):
        return h + p, w + p
    return h, w


def check_size(graph: CoSegScoresGraph, size: Sequence[int]) -> Tuple[int, int]:
    """``(H, W)`` if both are positive multiples of the patch size, else a ValueError."""
    h, w = (int(s) for s in size)
    p = graph.patch_size
    if h <= 0 or w <= 0 or h % p or w % p:
        raise ValueError(f'--size {h} {w}: height and width must be positive multiples of '
                         f'the patch size {p} (e.g. {max(p, h // p * p)} {max(p, w // p * p)})')
    return h, w


@torch.no_grad()
def vocabulary_embeddings(model: nn.Module, names: Sequence[str]) -> Tensor:
    """(K + 1, D) text embeddings of ``names`` plus the model's "unlabeled" name, last."""
    model.set_vocabulary(list(names), split='test')
    return model.vocabulary_embeddings('test').float()


def export_onnx(model: nn.Module, path: str, vocab_embeds: Tensor, *,
                size: Tuple[int, int] = (224, 224), names: Optional[Sequence[str]] = None,
                batch: int = 1) -> Dict[str, str]:
    """Write ``model``'s :class:`CoSegScoresGraph` to ``path`` (one self-contained file).

    Uses torch's ``torch.export``-based exporter (``dynamo=True``) with symbolic batch,
    image sides and vocabulary length, so the graph takes any of them. The example is traced
    with a batch of at least 2 (``torch.export`` specialises a size-1 dimension) and, at CLIP's
    pretraining grid, one patch larger (:func:`trace_size`).

    Args:
        model: A CoSeg in eval mode, on CPU.
        path: The ``.onnx`` file to write.
        vocab_embeds: (K + 1, D) example embeddings (any vocabulary works in the graph).
        size: (H, W) example image size, multiples of the patch size.
        names: The vocabulary's names, recorded in the metadata.
        batch: Example batch size.

    Returns:
        The metadata written into the file.
    """
    import onnx
    graph = CoSegScoresGraph(model).eval()
    h, w = trace_size(graph, check_size(graph, size))
    image = torch.rand(max(2, batch), 3, h, w, generator=torch.Generator().manual_seed(0)) * 255
    dims = torch.export.Dim
    dynamic_shapes = ({0: dims('batch'), 2: dims.AUTO, 3: dims.AUTO},
                      {0: dims('num_classes_plus_1')})
    torch.onnx.export(graph, (image, vocab_embeds.float()), path, dynamo=True,
                      external_data=False, input_names=list(INPUT_NAMES),
                      output_names=list(OUTPUT_NAMES), dynamic_shapes=dynamic_shapes,
                      opset_version=OPSET, verbose=False)
    meta = dict(
        producer='coseg_mmseg', model=type(model).__name__,
        neck_mode=str(getattr(model.neck, 'mode', '')),
        input_layout='NCHW RGB float32 0..255',
        mean=json.dumps(graph.mean.flatten().tolist()),
        std=json.dumps(graph.std.flatten().tolist()),
        patch_size=str(graph.patch_size), embed_dim=str(vocab_embeds.shape[1]),
        num_slots=str(int(model.neck.num_slots)),
        mask_threshold=str(float(model.decode_head.mask_threshold)),
        unlabeled_name=str(model.unlabeled_name),
        vocabulary=json.dumps(list(names) if names is not None else None))
    proto = onnx.load(path)
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, path)
    return meta
