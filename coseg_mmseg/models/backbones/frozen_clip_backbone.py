"""FrozenCLIPBackbone: CLIP's image encoder, frozen, giving the features CoSeg's neck and head read."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..clip import CLIPVisionTower, load_pretrained, load_submodule_weights
from ..features import BackboneFeatures

LOW_PRECISION = {'bfloat16': torch.bfloat16, 'float16': torch.float16}


@MODELS.register_module()
class FrozenCLIPBackbone(BaseModule):
    """CLIP's ViT image encoder, always frozen.

    No parameter requires grad, ``train()`` leaves it in eval mode and ``forward`` builds no
    autograd graph, so it stores no activations for backward and gets no gradients.

    Args:
        image_size: Pretraining resolution (other input sizes interpolate positions).
        patch_size: Patch side in pixels.
        embed_dims: Token width C (768 for ViT-B/16).
        num_layers: Transformer blocks (12).
        num_heads: Attention heads (12).
        output_dim: Width D of CLIP's joint space (512).
        mlp_ratio: MLP hidden width over C.
        act: MLP activation; ``'quick_gelu'`` for OpenAI's weights.
        out_indices: Blocks (0-based) whose token activations are returned; CLIPSeg's
            ``extract_layers`` (3, 6, 9).
        weights_dtype: Hold the frozen weights in this dtype (``'bfloat16'``, ``'float16'``)
            instead of float32, for mixed-precision runs: autocast then has no weight to cast
            in every step. The backbone computes in that dtype; its outputs come back in the
            input's dtype when autocast is off. ``None``: float32.
        init_cfg: ``dict(type='CLIPPretrained', checkpoint=..., source='huggingface' |
            'open_clip' | 'converted', model_name=...)``; see
            :mod:`coseg_mmseg.models.clip.clip_loading`. ``None`` keeps random weights.
    """

    # Its init_weights reads init_cfg type 'CLIPPretrained' only:
    # the frozen-weights references it accepts from a checkpoint (models/utils/frozen_weights).
    loads_clip_weights = True

    def __init__(self, *, image_size: int = 224, patch_size: int = 16, embed_dims: int = 768,
                 num_layers: int = 12, num_heads: int = 12, output_dim: int = 512,
                 mlp_ratio: float = 4.0, act: str = 'quick_gelu',
                 out_indices: Sequence[int] = (3, 6, 9), weights_dtype: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        bad = [i for i in out_indices if not 0 <= i < num_layers]
        if bad:
            raise ValueError(f'backbone.out_indices {tuple(out_indices)} has blocks {bad} outside '
                             f'0..{num_layers - 1} (num_layers={num_layers})')
        self.act = act
        self.out_indices = tuple(out_indices)
        self.visual = CLIPVisionTower(
            image_size=image_size, patch_size=patch_size, width=embed_dims, depth=num_layers,
            num_heads=num_heads, output_dim=output_dim, mlp_ratio=mlp_ratio, act=act)
        self.weights_dtype = None
        if weights_dtype is not None:
            if weights_dtype not in LOW_PRECISION:
                raise ValueError(f'backbone.weights_dtype must be one of {sorted(LOW_PRECISION)} '
                                 f'or None, got {weights_dtype!r}')
            self.weights_dtype = LOW_PRECISION[weights_dtype]
            self.visual.to(self.weights_dtype)  # weights loaded later are cast on copy
        self.requires_grad_(False)
        self.eval()

    def init_weights(self) -> None:
        """Load the CLIP weights named by ``init_cfg`` (``type='CLIPPretrained'``); nothing
        else is initialised."""
        loaded = load_pretrained(self.init_cfg, act=self.act)  # None: init_cfg names none
        if loaded is not None:
            state_dict, origin = loaded
            load_submodule_weights(self.visual, state_dict, 'visual.', origin=origin)
        self._is_init = True

    def train(self, mode: bool = True) -> 'FrozenCLIPBackbone':
        """Stay in eval mode whatever ``mode`` is: the backbone is frozen."""
        return super().train(False)

    @torch.no_grad()
    def forward(self, inputs: Tensor, *, final: str = 'visual_tokens') -> BackboneFeatures:
        """Encode a batch of normalised images.

        Args:
            inputs: (B, 3, H, W), H and W multiples of the patch size.
            final: What to compute past ``out_indices``: ``'visual_tokens'`` (everything
                below), ``'image_embed'`` (no ``visual_tokens``: the last block computes the
                CLS token alone) or ``'none'`` (neither: the blocks after ``out_indices`` are
                skipped).

        Returns:
            :class:`BackboneFeatures`:
            - ``layers``: list of (B, L, C), the outputs of ``out_indices`` without CLS,
              L = h*w, shallow to deep;
            - ``layers_cls``: list of (B, C), the CLS token of the same blocks;
            - ``visual_tokens``: (B, L, D), final tokens through ``ln_post`` and ``proj``;
            - ``image_embed``: (B, D), CLIP's pooled image embedding;
            - ``grid``: (h, w), the patch grid.
        """
        dtype = self.weights_dtype
        hidden, tokens, grid = self.visual(inputs if dtype is None else inputs.to(dtype),
                                           self.out_indices, final=final)
        if dtype is not None and not torch.is_autocast_enabled(inputs.device.type):
            hidden = [x.to(inputs.dtype) for x in hidden]
            tokens = None if tokens is None else tokens.to(inputs.dtype)
        out = dict(layers=[x[:, 1:] for x in hidden],  # hidden: (B, 1+L, C) each
                   layers_cls=[x[:, 0] for x in hidden], grid=grid)
        if final == 'visual_tokens':
            out['visual_tokens'] = tokens[:, 1:]  # (B, L, D)
        if final != 'none':
            out['image_embed'] = tokens[:, 0]  # (B, D)
        return out
