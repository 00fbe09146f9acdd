"""The two towers of CLIP: a ViT image encoder and a causal text transformer.

Architecture of OpenAI's CLIP (Radford et al. 2021; code MIT licence), written here in our own
words. Parameter names follow OpenAI/open_clip, so open_clip state dicts load as they are and
HuggingFace ones after :func:`coseg_mmseg.models.clip.convert_hf_clip`.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..utils.transformer_layers import Transformer

FINAL_OUTPUTS = ('visual_tokens', 'image_embed', 'none')


class CLIPVisionTower(nn.Module):
    """CLIP's vision transformer.

    Args:
        image_size: Pretraining resolution; other sizes interpolate the position embeddings
            (bicubic, as HuggingFace's ``interpolate_pos_encoding``).
        patch_size: Patch side in pixels.
        width: Token width C.
        depth: Number of transformer blocks.
        num_heads: Attention heads.
        output_dim: Width D of CLIP's joint space (``proj``: C -> D).
        mlp_ratio: MLP hidden width over C.
        act: ``'quick_gelu'`` for OpenAI's weights, ``'gelu'`` for most others.
    """

    def __init__(self, *, image_size: int = 224, patch_size: int = 16, width: int = 768,
                 depth: int = 12, num_heads: int = 12, output_dim: int = 512,
                 mlp_ratio: float = 4.0, act: str = 'quick_gelu') -> None:
        super().__init__()
        self.patch_size = patch_size
        self.grid_size = image_size // patch_size
        scale = width ** -0.5
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        num_positions = self.grid_size ** 2 + 1
        self.positional_embedding = nn.Parameter(scale * torch.randn(num_positions, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, depth, num_heads, mlp_ratio=mlp_ratio, act=act)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def position_embedding(self, h: int, w: int) -> Tensor:
        """Position embeddings for an (h, w) patch grid: (1 + h*w, C)."""
        if (h, w) == (self.grid_size, self.grid_size):
            return self.positional_embedding
        cls_pos, patch_pos = self.positional_embedding[:1], self.positional_embedding[1:]
        g, C = self.grid_size, patch_pos.shape[-1]
        patch_pos = patch_pos.reshape(1, g, g, C).permute(0, 3, 1, 2)  # (1, C, g, g)
        patch_pos = F.interpolate(patch_pos, size=(h, w), mode='bicubic', align_corners=False)
        return torch.cat([cls_pos, patch_pos.permute(0, 2, 3, 1).reshape(h * w, C)])

    def forward(self, images: Tensor, out_indices: Sequence[int] = (), *, final: str = 'visual_tokens'
                ) -> Tuple[List[Tensor], Optional[Tensor], Tuple[int, int]]:
        """Encode images, computing only what ``final`` asks for beyond ``out_indices``.

        Args:
            images: Normalised images, (B, 3, H, W).
            out_indices: Blocks (0-based) whose outputs to return.
            final: ``'visual_tokens'``: all final tokens through ``ln_post`` and ``proj``;
                ``'image_embed'``: the pooled image embedding only (the last block computes
                its CLS token alone); ``'none'``: nothing past the deepest of ``out_indices``
                (the blocks after it are skipped).

        Returns:
            ``(hidden, tokens, (h, w))``: the outputs of the blocks in ``out_indices``, each
            (B, 1 + h*w, C) with the CLS token first; the final tokens through ``ln_post``
            and ``proj``, (B, 1 + h*w, D) for ``'visual_tokens'`` and (B, 1, D) for
            ``'image_embed'`` (index 0 is CLIP's pooled image embedding), ``None`` for
            ``'none'``; the patch grid.
        """
        if final not in FINAL_OUTPUTS:
            raise ValueError(f'final={final!r}; expected one of {FINAL_OUTPUTS}')
        blocks = self.transformer.resblocks
        depth = len(blocks) if final != 'none' else max(out_indices, default=-1) + 1
        x = self.conv1(images.to(self.conv1.weight.dtype))  # (B, C, h, w)
        h, w = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)  # (B, h*w, C)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)  # (B, 1, C)
        x = torch.cat([cls, x], dim=1) + self.position_embedding(h, w).to(x.dtype)
        x = self.ln_pre(x)  # (B, 1 + h*w, C)
        hidden = []
        for i, block in enumerate(blocks[:depth]):
            cls_only = final == 'image_embed' and i == len(blocks) - 1 and i not in out_indices
            x = block(x, num_queries=1 if cls_only else None)  # (B, 1 + h*w or 1, C)
            if i in out_indices:
                hidden.append(x)
        tokens = None if final == 'none' else self.ln_post(x) @ self.proj  # (B, 1 + h*w | 1, D)
        return hidden, tokens, (h, w)


class CLIPTextTower(nn.Module):
    """CLIP's text transformer: causal attention, pooled at the end-of-text token.

    Args:
        vocab_size: BPE vocabulary size (49408 for CLIP's tokenizer).
        context_length: Maximum tokens per text.
        width: Token width.
        depth: Number of transformer blocks.
        num_heads: Attention heads.
        output_dim: Width of CLIP's joint space.
        mlp_ratio: MLP hidden width over ``width``.
        act: Activation of the MLPs.
    """

    def __init__(self, *, vocab_size: int = 49408, context_length: int = 77, width: int = 512,
                 depth: int = 12, num_heads: int = 8, output_dim: int = 512,
                 mlp_ratio: float = 4.0, act: str = 'quick_gelu') -> None:
        super().__init__()
        self.context_length = context_length
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.positional_embedding = nn.Parameter(0.01 * torch.randn(context_length, width))
        self.transformer = Transformer(width, depth, num_heads, mlp_ratio=mlp_ratio, act=act)
        self.ln_final = nn.LayerNorm(width)
        self.text_projection = nn.Parameter(width ** -0.5 * torch.randn(width, output_dim))

    def forward(self, token_ids: Tensor) -> Tensor:
        """(T, context_length) token ids -> (T, D) text embeddings (not normalised).

        The embedding is read at the end-of-text token, the highest id of CLIP's tokenizer.
        """
        x = self.token_embedding(token_ids) + self.positional_embedding  # (T, Lt, W)
        x = self.ln_final(self.transformer(x, is_causal=True))  # (T, Lt, W)
        eot = token_ids.argmax(dim=-1)  # (T,)
        return x[torch.arange(x.shape[0], device=x.device), eot] @ self.text_projection
