"""CoexistenceNeck: N learnable tokens read CLIP's visual tokens and predict the things present."""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor, nn

from ..features import BackboneFeatures, CoSegFeatures
from ..utils.transformer_layers import Transformer

MODES = ('prefix', 'xatten')
POSITIONS = ('sinusoidal', 'learned')


def sinusoidal_positions(num: int, dims: int) -> Tensor:
    """Fixed sine/cosine position encodings (Vaswani et al. 2017): (num, dims)."""
    pos = torch.arange(num, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dims, 2, dtype=torch.float32) * (-math.log(10000.0) / dims))
    enc = torch.zeros(num, dims)
    enc[:, 0::2] = torch.sin(pos * freq)
    enc[:, 1::2] = torch.cos(pos * freq[:dims // 2])
    return enc


@MODELS.register_module()
class CoexistenceNeck(BaseModule):
    """Predict N slot embeddings, one per thing in the image (CoSeg paper, section 3.4).

    The N coexistence tokens are learnable queries (``slot_queries``, position encoded).
    ``mode='prefix'``: they are prepended to the L visual tokens and ``depth`` pre-norm
    transformer blocks run over all N + L; the N outputs are kept.
    ``mode='xatten'``: ``encoder_depth`` blocks encode the L visual tokens, then
    ``decoder_depth`` blocks let the N queries self-attend and cross-attend to them.

    Args:
        mode: ``'prefix'`` or ``'xatten'``.
        num_slots: N, the number of coexistence tokens (20).
        in_channels: Width of the visual tokens (512 for CLIP ViT-B/16's joint space).
        embed_dims: Width of the neck's blocks; a linear map adapts ``in_channels``.
        out_channels: Width of the predicted embeddings: CLIP's joint space (512).
        num_heads: Attention heads (4).
        depth: Blocks of the prefix model (8).
        encoder_depth: Encoder blocks of the xatten model (4).
        decoder_depth: Decoder blocks of the xatten model (4).
        mlp_ratio: MLP hidden width over ``embed_dims``.
        query_std: Std of the normal initialisation of the queries.
        in_key: Which backbone features the tokens read: ``'visual_tokens'`` (the paper:
            CLIP's final tokens in the joint space, (B, L, D)) or ``'layers'`` (the M
            activations the decoder reads, side by side on the channels: (B, L, M * C);
            ``in_channels`` is then M * C). docs/open_vocabulary.md measures both.
        positions: ``'sinusoidal'`` (fixed encodings added to the queries; the visual tokens
            get none) or ``'learned'`` (the authors' released code: learned positions added
            to the queries, ``slot_pos``, and to the visual tokens, ``token_pos``).
        token_grid: (h, w) of the learned ``token_pos`` (14 x 14: ViT-B/16 at 224); resized
            bilinearly to the features' ``grid`` when it differs (the authors' code indexes a
            table of 512 positions by the flattened token index instead).
        init_cfg: mmengine init config.
    """

    def __init__(self, *, mode: str = 'prefix', num_slots: int = 20, in_channels: int = 512,
                 embed_dims: int = 512, out_channels: int = 512, num_heads: int = 4,
                 depth: int = 8, encoder_depth: int = 4, decoder_depth: int = 4,
                 mlp_ratio: float = 4.0, query_std: float = 0.02, in_key: str = 'visual_tokens',
                 positions: str = 'sinusoidal', token_grid: Tuple[int, int] = (14, 14),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in MODES:
            raise ValueError(f'neck.mode must be one of {MODES}, got {mode!r}')
        if num_slots < 1:
            raise ValueError(f'neck.num_slots must be >= 1, got {num_slots}')
        if positions not in POSITIONS:
            raise ValueError(f'neck.positions must be one of {POSITIONS}, got {positions!r}')
        self.mode = mode
        self.num_slots = num_slots
        self.in_channels = in_channels
        self.in_key = in_key
        self.positions = positions
        self.slot_queries = nn.Parameter(query_std * torch.randn(num_slots, embed_dims))
        if positions == 'sinusoidal':
            self.register_buffer('slot_pos', sinusoidal_positions(num_slots, embed_dims),
                                 persistent=False)
            self.token_pos = None
        else:
            self.slot_pos = nn.Parameter(query_std * torch.randn(num_slots, embed_dims))
            self.token_pos = nn.Parameter(query_std * torch.randn(embed_dims, *token_grid))
        self.input_proj = (nn.Identity() if in_channels == embed_dims else
                           nn.Linear(in_channels, embed_dims))
        block_args = dict(num_heads=num_heads, mlp_ratio=mlp_ratio, act='gelu')
        if mode == 'prefix':
            self.blocks = Transformer(embed_dims, depth, **block_args)
        else:
            self.encoder = Transformer(embed_dims, encoder_depth, **block_args)
            self.decoder = Transformer(embed_dims, decoder_depth, cross_attention=True,
                                       **block_args)
        self.ln_out = nn.LayerNorm(embed_dims)
        self.out_proj = nn.Linear(embed_dims, out_channels)

    def forward(self, inputs: BackboneFeatures) -> CoSegFeatures:
        """Add the slot embeddings to the backbone's features.

        Args:
            inputs: Backbone features; ``inputs[in_key]`` is (B, L, in_channels), or a list
                of (B, L, C) concatenated on the channels (``'layers'``).

        Returns:
            A copy of ``inputs`` with ``slot_embeds``: (B, N, out_channels).
        """
        visual_tokens = inputs[self.in_key]
        if isinstance(visual_tokens, (list, tuple)):
            visual_tokens = torch.cat(visual_tokens, dim=-1)  # (B, L, M * C)
        if visual_tokens.dim() != 3 or visual_tokens.shape[-1] != self.in_channels:
            raise ValueError(
                f'neck.in_channels={self.in_channels} but backbone output {self.in_key!r} has '
                f'shape {tuple(visual_tokens.shape)}; expected (B, L, {self.in_channels})')
        B, N = visual_tokens.shape[0], self.num_slots
        memory = self.input_proj(visual_tokens)  # (B, L, E)
        if self.token_pos is not None:
            memory = memory + self.token_positions(inputs.get('grid'), memory.shape[1])
        queries = (self.slot_queries + self.slot_pos).expand(B, -1, -1)  # (B, N, E)
        if self.mode == 'prefix':
            x = self.blocks(torch.cat([queries, memory], dim=1), num_queries=N)  # (B, N, E)
        else:
            x = self.decoder(queries, self.encoder(memory))  # (B, N, E)
        return {**inputs, 'slot_embeds': self.out_proj(self.ln_out(x))}  # (B, N, D)

    def token_positions(self, grid: Optional[Tuple[int, int]], num_tokens: int) -> Tensor:
        """The learned ``token_pos`` on the features' patch grid: (L, E), row-major.

        Args:
            grid: (h, w) of the L visual tokens; None means ``token_grid``.
            num_tokens: L, checked against the grid.
        """
        grid = tuple(grid) if grid is not None else tuple(self.token_pos.shape[1:])
        if grid[0] * grid[1] != num_tokens:
            raise ValueError(f'neck: {num_tokens} visual tokens do not fill the patch grid '
                             f'{grid} that the learned positions are laid on')
        pos = self.token_pos
        if tuple(pos.shape[1:]) != grid:
            pos = F.interpolate(pos[None], size=grid, mode='bilinear', align_corners=False)[0]
        return pos.flatten(1).t()  # (L, E)
