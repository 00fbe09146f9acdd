"""Transformer building blocks shared by the CLIP towers and the coexistence neck.

The pre-norm residual block follows the layout of OpenAI's CLIP (MIT licence) and open_clip
(MIT licence): parameter names match theirs (``attn.in_proj_weight``, ``mlp.c_fc``, ...), so an
open_clip state dict loads without renaming. Written here from scratch around PyTorch's
``scaled_dot_product_attention``.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class QuickGELU(nn.Module):
    """``x * sigmoid(1.702 x)``: the activation OpenAI's CLIP weights were trained with."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(1.702 * x)


ACTIVATIONS = {'quick_gelu': QuickGELU, 'gelu': nn.GELU, 'relu': nn.ReLU}


def build_activation(name: str) -> nn.Module:
    """Activation module by name (``'quick_gelu'``, ``'gelu'`` or ``'relu'``)."""
    if name not in ACTIVATIONS:
        raise ValueError(f'unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}')
    return ACTIVATIONS[name]()


class MultiheadAttention(nn.Module):
    """Multi-head attention with packed q/k/v weights (``nn.MultiheadAttention``'s names).

    Args:
        embed_dims: Width of queries, keys and values.
        num_heads: Number of heads; must divide ``embed_dims``.
    """

    def __init__(self, embed_dims: int, num_heads: int) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by num_heads={num_heads}')
        self.num_heads = num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dims, embed_dims))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dims))
        self.out_proj = nn.Linear(embed_dims, embed_dims)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: Tensor, memory: Optional[Tensor] = None, *,
                is_causal: bool = False) -> Tensor:
        """Self-attention over ``x`` or, with ``memory``, cross-attention from ``x`` to it.

        Args:
            x: Queries, (B, Lq, C).
            memory: Keys/values source, (B, Lk, C); ``None`` for self-attention.
            is_causal: Mask future positions (the CLIP text tower).

        Returns:
            (B, Lq, C).
        """
        B, Lq, C = x.shape
        if memory is None:
            q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        else:
            q = F.linear(x, self.in_proj_weight[:C], self.in_proj_bias[:C])
            k, v = F.linear(memory, self.in_proj_weight[C:], self.in_proj_bias[C:]).chunk(2, dim=-1)
        # (B, L, C) -> (B, heads, L, C / heads)
        q, k, v = (t.unflatten(-1, (self.num_heads, -1)).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)  # (B, heads, Lq, C/h)
        return self.out_proj(out.transpose(1, 2).reshape(B, Lq, C))


class MLP(nn.Module):
    """Two-layer perceptron ``c_fc -> act -> c_proj`` (CLIP's names)."""

    def __init__(self, embed_dims: int, hidden_dims: int, act: str) -> None:
        super().__init__()
        self.c_fc = nn.Linear(embed_dims, hidden_dims)
        self.act = build_activation(act)
        self.c_proj = nn.Linear(hidden_dims, embed_dims)

    def forward(self, x: Tensor) -> Tensor:
        return self.c_proj(self.act(self.c_fc(x)))


class ResidualAttentionBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(ln_1(x))`` then ``x + mlp(ln_2(x))``.

    Args:
        embed_dims: Token width.
        num_heads: Attention heads.
        mlp_ratio: Hidden width of the MLP over ``embed_dims``.
        act: Activation of the MLP.
        cross_attention: Add a cross-attention sub-layer (``ln_x``, ``cross_attn``) between
            self-attention and the MLP, reading the ``memory`` passed to ``forward``.
    """

    def __init__(self, embed_dims: int, num_heads: int, *, mlp_ratio: float = 4.0,
                 act: str = 'gelu', cross_attention: bool = False) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(embed_dims)
        self.attn = MultiheadAttention(embed_dims, num_heads)
        if cross_attention:
            self.ln_x = nn.LayerNorm(embed_dims)
            self.cross_attn = MultiheadAttention(embed_dims, num_heads)
        self.ln_2 = nn.LayerNorm(embed_dims)
        self.mlp = MLP(embed_dims, int(embed_dims * mlp_ratio), act)

    def forward(self, x: Tensor, memory: Optional[Tensor] = None, *, is_causal: bool = False,
                num_queries: Optional[int] = None) -> Tensor:
        """(B, L, C) -> (B, L, C); ``memory`` (B, M, C) only with ``cross_attention``.

        With ``num_queries`` = q only the first q tokens are computed, (B, L, C) -> (B, q, C),
        their attention still reading all L tokens: the same values as ``forward(x)[:, :q]``
        for a fraction of the work (CLIP's last block, when only its CLS token is used).
        """
        if num_queries is None:
            x = x + self.attn(self.ln_1(x), is_causal=is_causal)
        elif is_causal:
            raise ValueError('num_queries and is_causal cannot be combined')
        else:
            normed = self.ln_1(x)  # (B, L, C)
            x = x[:, :num_queries] + self.attn(normed[:, :num_queries], normed)  # (B, q, C)
        if memory is not None:
            x = x + self.cross_attn(self.ln_x(x), memory)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    """A stack of :class:`ResidualAttentionBlock` (open_clip's ``transformer.resblocks``)."""

    def __init__(self, embed_dims: int, depth: int, num_heads: int, *, mlp_ratio: float = 4.0,
                 act: str = 'gelu', cross_attention: bool = False) -> None:
        super().__init__()
        self.resblocks = nn.ModuleList(
            ResidualAttentionBlock(embed_dims, num_heads, mlp_ratio=mlp_ratio, act=act,
                                   cross_attention=cross_attention) for _ in range(depth))

    def forward(self, x: Tensor, memory: Optional[Tensor] = None, *, is_causal: bool = False,
                num_queries: Optional[int] = None) -> Tensor:
        """(B, L, C) -> (B, L, C), or (B, q, C) with ``num_queries`` = q: only the first q
        tokens' outputs are wanted, so the last block computes those alone."""
        *blocks, last = self.resblocks
        for block in blocks:
            x = block(x, memory, is_causal=is_causal)
        return last(x, memory, is_causal=is_causal, num_queries=num_queries)
