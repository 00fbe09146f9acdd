"""FiLMCLIPSegHead: CLIPSeg's decoder, one mask per conditioning embedding.

Architecture of CLIPSeg (Lüddecke & Ecker, CVPR 2022; code MIT licence) as implemented in
HuggingFace transformers' ``CLIPSegDecoder`` (Apache-2.0), written here in our own words. The
parameter names equal HuggingFace's ``decoder.*`` names, so a CLIPSeg checkpoint
(``CIDAS/clipseg-rd64-refined``) loads without renaming.
"""
from typing import List, Optional

import torch
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor, nn

from ..clip import load_pretrained, load_submodule_weights
from ..features import CoSegFeatures, HeadOutputs
from ..utils.coexistence_targets import coexistence_targets


class CLIPSegAttention(nn.Module):
    """Self-attention with separate q/k/v projections (HuggingFace's names)."""

    def __init__(self, dims: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (
            nn.Linear(dims, dims) for _ in range(4))

    def forward(self, x: Tensor) -> Tensor:
        """(B, L, C) -> (B, L, C)."""
        q, k, v = (proj(x).unflatten(-1, (self.num_heads, -1)).transpose(1, 2)
                   for proj in (self.q_proj, self.k_proj, self.v_proj))  # (B, heads, L, C/h)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.out_proj(out.transpose(1, 2).flatten(2))


class CLIPSegMLP(nn.Module):
    """``fc1 -> ReLU -> fc2``."""

    def __init__(self, dims: int, hidden_dims: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden_dims)
        self.fc2 = nn.Linear(hidden_dims, dims)

    def forward(self, x: Tensor) -> Tensor:
        """(..., dims) -> (..., dims)."""
        return self.fc2(F.relu(self.fc1(x)))


class CLIPSegDecoderLayer(nn.Module):
    """Post-norm transformer layer: ``ln1(x + attn(x))`` then ``ln2(x + mlp(x))``."""

    def __init__(self, dims: int, num_heads: int, ffn_channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.self_attn = CLIPSegAttention(dims, num_heads)
        self.layer_norm1 = nn.LayerNorm(dims, eps=eps)
        self.mlp = CLIPSegMLP(dims, ffn_channels)
        self.layer_norm2 = nn.LayerNorm(dims, eps=eps)

    def forward(self, x: Tensor) -> Tensor:
        x = self.layer_norm1(x + self.self_attn(x))
        return self.layer_norm2(x + self.mlp(x))


@MODELS.register_module()
class FiLMCLIPSegHead(BaseDecodeHead):
    """CLIPSeg's decoder producing one mask per conditioning embedding.

    Going from the deepest extracted activation to the shallowest, each step adds
    ``reduces[i](activation)`` to the running tokens and applies one post-norm layer; after the
    first reduction the tokens are modulated by FiLM, ``film_mul(c) * x + film_add(c)``, with
    the conditioning embedding ``c``. The image part of the activations is reduced once per
    image and shared by its N conditionals. The tokens are then laid on the patch grid and
    upsampled by transposed convolutions to the input size.

    Inputs: :class:`~coseg_mmseg.models.features.CoSegFeatures` — the activations ``layers``
    (and ``layers_cls``) on the patch ``grid``, the N ``slot_embeds`` conditioning the masks,
    and, for loss and inference, ``vocab_embeds``. Each slot is named by :meth:`name_slots`.

    mmseg's ``num_classes`` / ``out_channels`` / ``threshold`` of ``BaseDecodeHead`` are not
    knobs here: the classes follow the vocabulary in use (see
    :class:`~coseg_mmseg.models.segmentors.CoSegBase`).

    Args:
        in_channels: Width C of the backbone activations (768).
        channels: CLIPSeg's ``reduce_dim`` (64 for rd64, 128 in the CoSeg paper).
        cond_channels: Width D of the slot embeddings (512).
        num_layers: Decoder layers, one per extracted activation (3).
        num_heads: Decoder attention heads (4).
        ffn_channels: Decoder MLP width (2048).
        patch_size: Backbone patch size: the upsampling factor (16).
        complex_upsample: CLIPSeg's "complex" transposed convolution (rd64-refined) instead of
            a single ``ConvTranspose2d``.
        film_layer: Step after whose reduction FiLM is applied (CLIPSeg's
            ``conditional_layer``, 0).
        use_cls_token: Run the decoder over the CLS token too, as CLIPSeg does (needed to
            reproduce its masks exactly).
        mask_threshold: A pixel gets a label only where some slot's mask probability reaches
            it (paper: 0.3).
        loss_decode: The loss config (:class:`CoSegLoss`).
        ignore_index: Label of pixels without class.
        init_cfg: ``dict(type='Pretrained', checkpoint='CIDAS/clipseg-rd64-refined',
            source='huggingface')`` loads a CLIPSeg decoder; ``None`` keeps random weights.
    """

    def __init__(self, *, in_channels: int = 768, channels: int = 64, cond_channels: int = 512,
                 num_layers: int = 3, num_heads: int = 4, ffn_channels: int = 2048,
                 patch_size: int = 16, complex_upsample: bool = True, film_layer: int = 0,
                 use_cls_token: bool = True, mask_threshold: float = 0.3, loss_decode: Optional[dict] = None,
                 ignore_index: int = 255, align_corners: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            in_channels, channels, num_classes=1, out_channels=1, threshold=mask_threshold,
            dropout_ratio=0.0, loss_decode=loss_decode or dict(type='CoSegLoss'),
            ignore_index=ignore_index, align_corners=align_corners, init_cfg=init_cfg)
        del self.conv_seg  # masks come from the transposed convolutions
        if not 0 <= film_layer < num_layers:
            raise ValueError(f'decode_head.film_layer={film_layer} must be in 0..{num_layers - 1}')
        if complex_upsample and patch_size % 4:
            raise ValueError(f'decode_head.complex_upsample needs patch_size divisible by 4, '
                             f'got {patch_size}')
        self.num_layers = num_layers
        self.film_layer = film_layer
        self.use_cls_token = use_cls_token
        self.mask_threshold = mask_threshold
        self.film_mul = nn.Linear(cond_channels, channels)
        self.film_add = nn.Linear(cond_channels, channels)
        self.reduces = nn.ModuleList(nn.Linear(in_channels, channels) for _ in range(num_layers))
        self.layers = nn.ModuleList(
            CLIPSegDecoderLayer(channels, num_heads, ffn_channels) for _ in range(num_layers))
        if complex_upsample:
            k = patch_size // 4
            self.transposed_convolution = nn.Sequential(
                nn.Conv2d(channels, channels, kernel_size=3, padding=1), nn.ReLU(),
                nn.ConvTranspose2d(channels, channels // 2, kernel_size=k, stride=k), nn.ReLU(),
                nn.ConvTranspose2d(channels // 2, 1, kernel_size=k, stride=k))
        else:
            self.transposed_convolution = nn.ConvTranspose2d(
                channels, 1, kernel_size=patch_size, stride=patch_size)

    def init_weights(self) -> None:
        """Load a CLIPSeg decoder when ``init_cfg`` is ``CLIPPretrained``; else default init."""
        loaded = load_pretrained(self.init_cfg)  # None: init_cfg names no CLIP weights
        if loaded is not None:
            state_dict, origin = loaded
            load_submodule_weights(self, state_dict, 'decoder.', origin=origin)
            self._is_init = True
        else:
            super().init_weights()

    def decode(self, layers: List[Tensor], layers_cls: Optional[List[Tensor]], grid: tuple,
               cond: Tensor) -> Tensor:
        """Masks for N slot embeddings per image.

        Args:
            layers: M activations (B, L, C), shallow to deep, L = h * w.
            layers_cls: M CLS tokens (B, C), or None when ``use_cls_token`` is False.
            grid: (h, w).
            cond: (B, N, D) slot embeddings.

        Returns:
            (B, N, h * patch, w * patch) mask logits.
        """
        if len(layers) != self.num_layers:
            raise ValueError(f'decode_head.num_layers={self.num_layers} but the backbone gives '
                             f'{len(layers)} activations (backbone.out_indices)')
        if self.use_cls_token and layers_cls is None:
            raise ValueError('decode_head.use_cls_token=True but the backbone gives no CLS '
                             'tokens; set use_cls_token=False')
        B, N = cond.shape[:2]
        h, w = grid
        x = None  # (B, N or 1, 1 + L, rd)
        for i in range(self.num_layers):
            act = layers[-1 - i]  # deepest first
            if self.use_cls_token:
                act = torch.cat([layers_cls[-1 - i][:, None], act], dim=1)  # (B, 1 + L, C)
            reduced = self.reduces[i](act)[:, None]  # (B, 1, 1 + L, rd): shared by N
            x = reduced if x is None else x + reduced
            if i == self.film_layer:
                # (B, N, 1, rd) * (B, 1 or N, 1 + L, rd) + (B, N, 1, rd)
                x = self.film_mul(cond)[:, :, None] * x + self.film_add(cond)[:, :, None]
            x = self.layers[i](x.flatten(0, 1)).unflatten(0, (B, -1))  # (B, N, 1 + L, rd)
        if self.use_cls_token:
            x = x[:, :, 1:]
        return self.upsample(x.flatten(0, 1), grid).unflatten(0, (B, N))  # (B, N, H, W)

    def upsample(self, x: Tensor, grid: tuple) -> Tensor:
        """Tokens to mask logits through ``transposed_convolution``.

        Args:
            x: (R, h * w, rd) decoded tokens (R = B * N), row-major over the patch grid.
            grid: (h, w).

        Returns:
            (R, h * patch, w * patch) mask logits.
        """
        image = x.unflatten(1, grid).permute(0, 3, 1, 2)  # (R, rd, h, w)
        return self.transposed_convolution(image)[:, 0]

    def forward(self, inputs: CoSegFeatures) -> HeadOutputs:
        """Decode the masks of the N slot embeddings.

        Returns:
            :class:`HeadOutputs`: ``mask_logits`` (B, N, H, W), and ``slot_embeds``,
            ``vocab_embeds``, ``slot_classes`` passed through when given.
        """
        slot_embeds = inputs['slot_embeds']  # (B, N, D)
        masks = self.decode(inputs['layers'], inputs.get('layers_cls'), inputs['grid'],
                            slot_embeds)
        out = HeadOutputs(mask_logits=masks, slot_embeds=slot_embeds)
        for key in ('vocab_embeds', 'slot_classes'):
            if key in inputs:
                out[key] = inputs[key]
        return out

    def loss_by_feat(self, seg_logits: HeadOutputs,
                     batch_data_samples: SampleList) -> dict:
        """CoSeg loss against targets built from the ground-truth label maps.

        Args:
            seg_logits: The output of :meth:`forward`.
            batch_data_samples: Samples holding ``gt_sem_seg``.
        """
        gt = self._stack_batch_gt(batch_data_samples)[:, 0].long()  # (B, H, W)
        masks = seg_logits['mask_logits']  # (B, N, h*p, w*p)
        if masks.shape[-2:] != gt.shape[-2:]:
            masks = resize(masks, size=gt.shape[-2:], mode='bilinear',
                           align_corners=self.align_corners)
        vocab = seg_logits['vocab_embeds']  # (K + 1, D)
        labels, target_masks = coexistence_targets(
            gt, num_slots=masks.shape[1], num_classes=vocab.shape[0] - 1,
            ignore_index=self.ignore_index,
            names=[s.metainfo.get('seg_map_path', '?') for s in batch_data_samples])
        return self.loss_decode(masks, target_masks, gt != self.ignore_index,
                                seg_logits['slot_embeds'], labels, vocab)

    @property
    def naming_temperature(self) -> float:
        """Temperature of the slot-label softmax: the contrastive loss's (tau), else 0.08."""
        return float(getattr(self.loss_decode, 'temperature', 0.08))

    def name_slots(self, outputs: HeadOutputs) -> Tensor:
        """Label probabilities of every slot: (B, N, K + 1), "unlabeled" last.

        The one place slots are named, for inference and for the API alike. A slot's label is
        the argmax: the class whose text embedding is nearest to its embedding (a softmax of
        the cosine similarities over :attr:`naming_temperature`), unless the segmentor fixed
        it in ``outputs['slot_classes']`` (the baseline's ranked labels: probability 1).
        """
        vocab = outputs['vocab_embeds']  # (K + 1, D)
        if 'slot_classes' in outputs:
            return F.one_hot(outputs['slot_classes'], vocab.shape[0]).to(vocab.dtype)
        sims = F.normalize(outputs['slot_embeds'], dim=-1) @ F.normalize(vocab, dim=-1).t()
        return (sims / self.naming_temperature).softmax(dim=-1)

    def slot_scores(self, outputs: HeadOutputs) -> Tensor:
        """Per-class scores (B, K, H, W) from the N masks and their labels.

        Class k scores, at each pixel, the highest mask probability among the slots named k
        (0 where none is). Slots named "unlabeled" score nothing.
        """
        probs = outputs['mask_logits'].sigmoid()  # (B, N, H, W)
        slot_class = self.name_slots(outputs).argmax(dim=-1)  # (B, N)
        B, N, H, W = probs.shape
        scores = probs.new_zeros(B, outputs['vocab_embeds'].shape[0], H, W)
        scores.scatter_reduce_(1, slot_class[:, :, None, None].expand(-1, -1, H, W), probs,
                               reduce='amax')
        return scores[:, :-1]  # drop "unlabeled"

    def predict_by_feat(self, seg_logits: HeadOutputs,
                        batch_img_metas: List[dict]) -> Tensor:
        """(B, K, H, W) class scores at the (padded) input size, as mmseg expects.

        The masks are already at the input size whenever it is a multiple of the patch size;
        only then is mmseg's resize of all K channels skipped.
        """
        scores = self.slot_scores(seg_logits)
        meta = batch_img_metas[0]  # the size mmseg's BaseDecodeHead.predict_by_feat resizes to
        size = meta['img_shape']
        if not isinstance(size, torch.Size) and 'pad_shape' in meta:
            size = meta['pad_shape']
        if tuple(scores.shape[-2:]) == tuple(size[:2]):
            return scores
        return super().predict_by_feat(scores, batch_img_metas)
