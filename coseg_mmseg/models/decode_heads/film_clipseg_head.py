"""FiLMCLIPSegHead: CLIPSeg's decoder, one mask per conditioning embedding.

Architecture of CLIPSeg (Lüddecke & Ecker, CVPR 2022; code MIT licence) as implemented in
HuggingFace transformers' ``CLIPSegDecoder`` (Apache-2.0), written here in our own words. The
parameter names equal HuggingFace's ``decoder.*`` names, so a CLIPSeg checkpoint
(``CIDAS/clipseg-rd64-refined``) loads without renaming.
"""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS, TASK_UTILS
from mmseg.utils import SampleList
from torch import Tensor, nn

from ..assigners.base_slot_assigner import BaseSlotAssigner
from ..clip import clip_init_cfg, load_pretrained, load_submodule_weights
from ..features import CoSegFeatures, HeadOutputs
from ..utils.transformer_layers import build_activation

# inference_rule -> the method computing its class scores (FiLMCLIPSegHead.slot_scores).
INFERENCE_RULES = {'paper': '_paper_rule_scores', 'authors': '_authors_rule_scores'}
LAYER_ORDERS = ('deep_first', 'shallow_first')
# The paper's targets, when train_cfg names no assigner.
DEFAULT_TRAIN_CFG = dict(assigner=dict(type='AreaRankedAssigner'))


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
    """``fc1 -> act -> fc2`` (CLIPSeg: ReLU)."""

    def __init__(self, dims: int, hidden_dims: int, act: str = 'relu') -> None:
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden_dims)
        self.act = build_activation(act)
        self.fc2 = nn.Linear(hidden_dims, dims)

    def forward(self, x: Tensor) -> Tensor:
        """(..., dims) -> (..., dims)."""
        return self.fc2(self.act(self.fc1(x)))


class CLIPSegDecoderLayer(nn.Module):
    """Post-norm transformer layer: ``ln1(x + attn(x))`` then ``ln2(x + mlp(x))``."""

    def __init__(self, dims: int, num_heads: int, ffn_channels: int, eps: float = 1e-5,
                 act: str = 'relu') -> None:
        super().__init__()
        self.self_attn = CLIPSegAttention(dims, num_heads)
        self.layer_norm1 = nn.LayerNorm(dims, eps=eps)
        self.mlp = CLIPSegMLP(dims, ffn_channels, act)
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

    The defaults are CLIPSeg's decoder and the CoSeg paper's targets and inference; the options
    ``film_layer=(0, 1, 2)``, ``layer_order='shallow_first'``, ``decoder_act='gelu'``,
    ``mask_head_act='gelu'``, ``mask_head_padding='replicate'`` and
    ``inference_rule='authors'`` give the decoder and inference of the authors' released code,
    and ``train_cfg=dict(assigner=dict(type='SetMatchingAssigner'))`` set matching
    (docs/recipes.md). None of them renames a parameter: CLIPSeg weights load under every option.

    Args:
        in_channels: Width C of the backbone activations (768).
        channels: CLIPSeg's ``reduce_dim`` (64 for rd64, 128 in the CoSeg paper).
        cond_channels: Width D of the slot embeddings (512).
        num_layers: Decoder layers, one per extracted activation (3).
        num_heads: Decoder attention heads (4).
        ffn_channels: Decoder MLP width (2048).
        patch_size: Backbone patch size: the upsampling factor (16).
        complex_upsample: CLIPSeg's "complex" transposed convolution (rd64-refined: kernels
            of 4 and 4 for 16-pixel patches; patch / 4 and 4 for others) instead of a single
            ``ConvTranspose2d``.
        film_layer: Step (or steps) after whose reduction FiLM is applied, with the same
            ``film_mul`` / ``film_add`` each time: CLIPSeg's ``conditional_layer``, 0 (once,
            after the first reduction); the authors' code: ``(0, 1, 2)``, before every
            decoder block.
        layer_order: ``'deep_first'`` (CLIPSeg: ``reduces[0]`` reads the deepest activation)
            or ``'shallow_first'`` (the authors' code: layers 3, 6, 9 in that order).
        decoder_act: Activation of the decoder layers' MLPs: ``'relu'`` (CLIPSeg) or
            ``'gelu'`` (the authors' code).
        mask_head_act: Activation between the "complex" upsampling convolutions: ``'relu'``
            (CLIPSeg) or ``'gelu'`` (the authors' code).
        mask_head_padding: ``padding_mode`` of the complex head's 3x3 convolution:
            ``'zeros'`` (CLIPSeg) or ``'replicate'`` (the authors' code).
        use_cls_token: Run the decoder over the CLS token too, as CLIPSeg does (needed to
            reproduce its masks exactly).
        mask_threshold: A pixel gets a label only where its score reaches it (paper: 0.3 on
            the mask probability); the score depends on ``inference_rule``
            (:meth:`slot_scores`).
        inference_rule: How masks and slot labels become class scores (:meth:`slot_scores`):
            ``'paper'`` (:meth:`_paper_rule_scores`) or ``'authors'``
            (:meth:`_authors_rule_scores`).
        naming_temperature: Temperature of the softmax naming the slots (:meth:`name_slots`),
            at inference and in the set-matching cost; the paper's tau, 0.08. The loss's own
            ``temperature`` plays no part in it.
        train_cfg: ``dict(assigner=...)``, as mmseg's SAN and MaskFormer heads take it: the
            assigner (``TASK_UTILS``) deciding which slot learns which ground-truth class,
            :class:`~coseg_mmseg.models.assigners.AreaRankedAssigner` (the paper's: classes
            by decreasing area; the default) or
            :class:`~coseg_mmseg.models.assigners.SetMatchingAssigner` (set matching).
        seen_calibration: At inference, subtracted from every slot's cosine similarity to
            the names the model was trained on (the seen classes) before the slot is named:
            calibrated stacking (Chao et al., ECCV 2016), the simplest remedy for a
            zero-shot model's bias towards its training classes in a vocabulary that mixes
            seen and unseen names. 0 (default): off. The segmentor says which names are seen
            (``CoSegBase.seen_classes``).
        region_naming_weight: At inference, blend each slot's cosine similarities to the names
            with those of CLIP's own embedding of the slot's masked image (the segmentor
            computes it: ``region_embeds``): ``(1 - w) * slot + w * region``, before
            ``seen_calibration``. With one softmax temperature this is the geometric mean
            of the two naming distributions, ZegFormer's segment-level ensemble (Ding et al.,
            CVPR 2022), which OVSeg also uses: CLIP's image tower, never trained on the seen
            classes, leans to them less than the slots do. 0 (default): off; 1: CLIP alone.
        loss_decode: The loss config (:class:`CoSegLoss`).
        ignore_index: Label of pixels without class.
        init_cfg: ``dict(type='CLIPPretrained', checkpoint='CIDAS/clipseg-rd64-refined',
            source='huggingface')`` loads a CLIPSeg decoder; ``None`` keeps random weights.
    """

    # Its init_weights reads init_cfg type 'CLIPPretrained' only:
    # the frozen-weights references it accepts from a checkpoint (models/utils/frozen_weights).
    loads_clip_weights = True

    def __init__(self, *, in_channels: int = 768, channels: int = 64, cond_channels: int = 512,
                 num_layers: int = 3, num_heads: int = 4, ffn_channels: int = 2048,
                 patch_size: int = 16, complex_upsample: bool = True,
                 film_layer: Union[int, Sequence[int]] = 0, use_cls_token: bool = True,
                 mask_threshold: float = 0.3, loss_decode: Optional[dict] = None,
                 ignore_index: int = 255, align_corners: bool = False,
                 init_cfg: Optional[dict] = None,
                 layer_order: str = 'deep_first',
                 decoder_act: str = 'relu', mask_head_act: str = 'relu',
                 mask_head_padding: str = 'zeros', inference_rule: str = 'paper',
                 naming_temperature: float = 0.08, train_cfg: Optional[dict] = None,
                 seen_calibration: float = 0.0, region_naming_weight: float = 0.0) -> None:
        super().__init__(
            in_channels, channels, num_classes=1, out_channels=1, threshold=mask_threshold,
            dropout_ratio=0.0, loss_decode=loss_decode or dict(type='CoSegLoss'),
            ignore_index=ignore_index, align_corners=align_corners, init_cfg=init_cfg)
        del self.conv_seg  # masks come from the transposed convolutions
        film_layers = (film_layer, ) if isinstance(film_layer, int) else tuple(film_layer)
        if not film_layers or not all(isinstance(i, int) and 0 <= i < num_layers
                                      for i in film_layers):
            raise ValueError(f'decode_head.film_layer={film_layer} must be a step in '
                             f'0..{num_layers - 1} or a non-empty list of them')
        if complex_upsample and patch_size % 4:
            raise ValueError(f'decode_head.complex_upsample needs patch_size divisible by 4, '
                             f'got {patch_size}')
        for key, value, allowed in (('layer_order', layer_order, LAYER_ORDERS),
                                    ('inference_rule', inference_rule, tuple(INFERENCE_RULES)),
                                    ('mask_head_padding', mask_head_padding,
                                     ('zeros', 'replicate')),
                                    ('decoder_act', decoder_act, ('relu', 'gelu')),
                                    ('mask_head_act', mask_head_act, ('relu', 'gelu'))):
            if value not in allowed:
                raise ValueError(f'decode_head.{key} must be one of {allowed}, got {value!r}')
        if inference_rule == 'authors' and mask_threshold <= 0:
            raise ValueError(f'decode_head.mask_threshold={mask_threshold} must be > 0 with '
                             f"inference_rule='authors': pixels that no kept slot claims score "
                             f'0 and only a positive threshold leaves them without a label')
        if not isinstance(seen_calibration, (int, float)) or not 0 <= seen_calibration <= 2:
            raise ValueError(f'decode_head.seen_calibration must be a number in [0, 2] (a '
                             f'cosine similarity), got {seen_calibration!r}')
        self.seen_calibration = float(seen_calibration)
        if not isinstance(region_naming_weight, (int, float)) or not 0 <= region_naming_weight <= 1:
            raise ValueError(f'decode_head.region_naming_weight must be a number in [0, 1] (the '
                             f"share of CLIP's naming of the masked image), got "
                             f'{region_naming_weight!r}')
        self.region_naming_weight = float(region_naming_weight)
        if not isinstance(naming_temperature, (int, float)) or not naming_temperature > 0:
            raise ValueError(f'decode_head.naming_temperature must be a number > 0, got '
                             f'{naming_temperature!r}')
        self.naming_temperature = float(naming_temperature)
        self.train_cfg = DEFAULT_TRAIN_CFG if train_cfg is None else train_cfg
        if 'assigner' not in self.train_cfg:
            raise ValueError(f'decode_head.train_cfg={train_cfg!r} names no assigner; give '
                             f"dict(assigner=dict(type='AreaRankedAssigner')) or "
                             f"dict(assigner=dict(type='SetMatchingAssigner'))")
        self.assigner = TASK_UTILS.build(self.train_cfg['assigner'])
        if not isinstance(self.assigner, BaseSlotAssigner):
            raise ValueError(f'decode_head.train_cfg.assigner: {type(self.assigner).__name__} '
                             f'does not give slot targets (a BaseSlotAssigner); use '
                             f'AreaRankedAssigner or SetMatchingAssigner')
        self.num_layers = num_layers
        self.film_layer = film_layer
        self.film_layers = film_layers
        self.layer_order = layer_order
        self.inference_rule = inference_rule
        self.use_cls_token = use_cls_token
        self.mask_threshold = mask_threshold
        self.film_mul = nn.Linear(cond_channels, channels)
        self.film_add = nn.Linear(cond_channels, channels)
        self.reduces = nn.ModuleList(nn.Linear(in_channels, channels) for _ in range(num_layers))
        self.layers = nn.ModuleList(
            CLIPSegDecoderLayer(channels, num_heads, ffn_channels, act=decoder_act)
            for _ in range(num_layers))
        if complex_upsample:
            k = patch_size // 4  # then 4: the two upsample by the patch size (4 x 4 for 16)
            self.transposed_convolution = nn.Sequential(
                nn.Conv2d(channels, channels, kernel_size=3, padding=1,
                          padding_mode=mask_head_padding), build_activation(mask_head_act),
                nn.ConvTranspose2d(channels, channels // 2, kernel_size=k, stride=k),
                build_activation(mask_head_act),
                nn.ConvTranspose2d(channels // 2, 1, kernel_size=4, stride=4))
        else:
            self.transposed_convolution = nn.ConvTranspose2d(
                channels, 1, kernel_size=patch_size, stride=patch_size)

    def init_weights(self) -> None:
        """Load a CLIPSeg decoder when ``init_cfg`` is ``CLIPPretrained``; else default init."""
        if clip_init_cfg(self.init_cfg) is not None:
            state_dict, origin = load_pretrained(self.init_cfg)
            load_submodule_weights(self, state_dict, 'decoder.', origin=origin)
            self._is_init = True
        else:
            super().init_weights()

    def decode(self, layers: List[Tensor], layers_cls: Optional[List[Tensor]], grid: tuple,
               cond: Tensor) -> Tensor:
        """Masks for N slot embeddings per image.

        Args:
            layers: M activations (B, L, C), shallow to deep, L = h * w; step i reads
                ``layers[-1 - i]`` (``layer_order='deep_first'``) or ``layers[i]``.
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
            j = -1 - i if self.layer_order == 'deep_first' else i
            act = layers[j]
            if self.use_cls_token:
                act = torch.cat([layers_cls[j][:, None], act], dim=1)  # (B, 1 + L, C)
            reduced = self.reduces[i](act)[:, None]  # (B, 1, 1 + L, rd): shared by N
            x = reduced if x is None else x + reduced
            if i in self.film_layers:
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
        for key in ('vocab_embeds', 'slot_classes', 'seen_mask', 'region_embeds'):
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
        names = [s.metainfo.get('seg_map_path', '?') for s in batch_data_samples]
        predictions = dict(mask_logits=masks.detach(),
                           slot_probs=self.name_slots(seg_logits).detach()
                           ) if self.assigner.needs_predictions else {}
        labels, target_masks = self.assigner.assign_targets(
            gt, num_slots=masks.shape[1], num_classes=vocab.shape[0] - 1,
            ignore_index=self.ignore_index, names=names, **predictions)
        return self.loss_decode(masks, target_masks, gt != self.ignore_index,
                                seg_logits['slot_embeds'], labels, vocab)

    def name_slots(self, outputs: HeadOutputs) -> Tensor:
        """Label probabilities of every slot: (B, N, K + 1), "unlabeled" last.

        The one place slots are named, for inference and for the API alike. A slot's label is
        the argmax: the class whose text embedding is nearest to its embedding (a softmax of
        the cosine similarities over :attr:`naming_temperature`), unless the segmentor fixed
        it in ``outputs['slot_classes']`` (the baseline's ranked labels: probability 1).
        With ``region_naming_weight`` and ``outputs['region_embeds']``, the similarities are
        blended with those of the slots' masked images first; with ``seen_calibration`` and
        ``outputs['seen_mask']``, the similarities to seen names are then lowered by
        ``seen_calibration``.
        """
        vocab = F.normalize(outputs['vocab_embeds'], dim=-1)  # (K + 1, D)
        if 'slot_classes' in outputs:
            return F.one_hot(outputs['slot_classes'], vocab.shape[0]).to(vocab.dtype)
        sims = F.normalize(outputs['slot_embeds'], dim=-1) @ vocab.t()  # (B, N, K + 1)
        if self.region_naming_weight and outputs.get('region_embeds') is not None:
            region = F.normalize(outputs['region_embeds'], dim=-1) @ vocab.t()
            sims = torch.lerp(sims, region.to(sims.dtype), self.region_naming_weight)
        if self.seen_calibration and outputs.get('seen_mask') is not None:
            sims = sims - self.seen_calibration * outputs['seen_mask'].to(sims.dtype)
        return (sims / self.naming_temperature).softmax(dim=-1)

    def slot_scores(self, outputs: HeadOutputs) -> Tensor:
        """Per-class scores (B, K, H, W) in [0, 1] from the N masks and their labels.

        The segmentor labels each pixel with its best-scoring class where that score reaches
        ``mask_threshold`` (``CoSegBase.scores_to_labels``). One method per ``inference_rule``
        (:data:`INFERENCE_RULES`): :meth:`_paper_rule_scores` (``'paper'``) and
        :meth:`_authors_rule_scores` (``'authors'``). Slots named "unlabeled" score nothing
        under either rule.
        """
        return getattr(self, INFERENCE_RULES[self.inference_rule])(outputs)

    def _paper_rule_scores(self, outputs: HeadOutputs) -> Tensor:
        """``inference_rule='paper'``: (B, K, H, W).

        Class k scores, at each pixel, the highest mask probability among the slots named k
        (0 where none is); the threshold applies to mask probabilities.
        """
        probs = outputs['mask_logits'].sigmoid()  # (B, N, H, W)
        slot_class = self.name_slots(outputs).argmax(dim=-1)  # (B, N)
        B, N, H, W = probs.shape
        scores = probs.new_zeros(B, outputs['vocab_embeds'].shape[0], H, W)
        scores.scatter_reduce_(1, slot_class[:, :, None, None].expand(-1, -1, H, W), probs,
                               reduce='amax')
        return scores[:, :-1]  # drop "unlabeled"

    def _authors_rule_scores(self, outputs: HeadOutputs) -> Tensor:
        """``inference_rule='authors'`` (the authors' released code): (B, K, H, W).

        Each slot's confidence is its best label probability (:meth:`name_slots`); each pixel
        goes to the slot maximising mask probability x confidence; of the slots naming the
        same class only the most confident is kept. The class of the pixel's slot scores that
        product, every other class 0: a pixel whose slot is "unlabeled" or a dropped duplicate
        scores 0 everywhere and gets no label (the authors' code writes class id 0 there). The
        threshold applies to the product; the authors' code has none (every pixel is
        labelled), which a tiny positive ``mask_threshold`` reproduces.
        """
        probs = outputs['mask_logits'].sigmoid()  # (B, N, H, W)
        confidence, slot_class = self.name_slots(outputs).max(dim=-1)  # (B, N) each
        B, N, H, W = probs.shape
        unlabeled = outputs['vocab_embeds'].shape[0] - 1
        # Slot n is dropped when another slot m of its class is more confident (ties: the
        # first slot is kept, as numpy's argmax does in the authors' code).
        order = torch.arange(N, device=probs.device)
        c_n, c_m = confidence[:, :, None], confidence[:, None, :]  # (B, N, 1), (B, 1, N)
        beats = (c_m > c_n) | ((c_m == c_n) & (order[None, :] < order[:, None]))  # m beats n
        same = slot_class[:, :, None] == slot_class[:, None, :]
        kept = ~(same & beats).any(dim=-1) & (slot_class != unlabeled)  # (B, N)
        best, winner = (probs * confidence[:, :, None, None]).max(dim=1)  # (B, H, W)
        flat = winner.flatten(1)  # (B, H * W)
        score = best * kept.gather(1, flat).view(B, H, W).to(best.dtype)
        scores = probs.new_zeros(B, unlabeled + 1, H, W)
        scores.scatter_(1, slot_class.gather(1, flat).view(B, 1, H, W), score[:, None])
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
