"""FeatureMapAdapter: lets CoSeg's neck and head read the outputs of mmseg's own backbones."""
from typing import List, Optional, Sequence, Tuple, Union

from mmengine.model import BaseModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor, nn

from ..features import BackboneFeatures

BackboneOutput = Union[Tensor, Sequence[Tensor]]  # a map, or [map, cls] (mmseg's ViT)


@MODELS.register_module()
class FeatureMapAdapter(BaseModule):
    """Turn an mmseg backbone's tuple of maps into the :class:`BackboneFeatures` CoSeg reads.

    Works for token maps (mmseg's ``VisionTransformer``, with or without
    ``output_cls_token``) and CNN pyramids (``ResNetV1c``): every selected map is resized to
    the grid of ``inputs[grid_index]`` and projected by a learned linear map, into the
    decoder's input width (``layers``) or CLIP's joint space (``visual_tokens``, read by the
    neck).
    Put it before :class:`CoexistenceNeck`: ``neck=[dict(type='FeatureMapAdapter', ...),
    dict(type='CoexistenceNeck', ...)]``.

    Args:
        in_channels: Channels of each backbone output.
        layer_indices: Outputs given to the decode head, shallow to deep.
        token_index: Output projected into CLIP's space for the neck.
        grid_index: Output whose spatial size is the token grid (stride = the head's
            upsampling factor, 16).
        out_channels: Width of the head's input activations (``decode_head.in_channels``).
        token_channels: Width of CLIP's joint space (``neck.in_channels``).
        init_cfg: mmengine init config.
    """

    def __init__(self, *, in_channels: Sequence[int], layer_indices: Sequence[int],
                 token_index: int = -1, grid_index: int = -1, out_channels: int = 768,
                 token_channels: int = 512, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        n = len(in_channels)
        for key, index in [('token_index', token_index), ('grid_index', grid_index)] + [
                ('layer_indices', i) for i in layer_indices]:
            if not -n <= index < n:
                raise ValueError(f'FeatureMapAdapter.{key} has {index}, outside the {n} '
                                 f'backbone outputs declared by in_channels={tuple(in_channels)}')
        self.in_channels = tuple(in_channels)
        self.layer_indices = tuple(layer_indices)
        self.token_index = token_index
        self.grid_index = grid_index
        self.layer_projs = nn.ModuleList(
            nn.Linear(self.in_channels[i], out_channels) for i in self.layer_indices)
        self.token_proj = nn.Linear(self.in_channels[token_index], token_channels)

    def _split(self, inputs: Sequence[BackboneOutput]) -> Tuple[List[Tensor], List]:
        """Maps (B, C_i, H_i, W_i) and CLS tokens (B, C_i) or None, checked against config."""
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'FeatureMapAdapter.in_channels has {len(self.in_channels)} '
                             f'entries but the backbone gives {len(inputs)} outputs '
                             f'(backbone.out_indices)')
        maps, cls = [], []
        for i, out in enumerate(inputs):
            fmap, token = (out[0], out[1]) if isinstance(out, (list, tuple)) else (out, None)
            if fmap.dim() != 4 or fmap.shape[1] != self.in_channels[i]:
                raise ValueError(f'FeatureMapAdapter.in_channels[{i}]={self.in_channels[i]} but '
                                 f'backbone output {i} has shape {tuple(fmap.shape)}')
            maps.append(fmap)
            cls.append(token)
        return maps, cls

    def forward(self, inputs: Sequence[BackboneOutput]) -> BackboneFeatures:
        """Backbone outputs -> ``layers``, ``layers_cls``, ``visual_tokens``, ``grid``.

        Returns:
            dict with ``layers`` (list of (B, L, out_channels)), ``layers_cls`` (list of
            (B, out_channels), or None when the backbone gives no CLS token), ``visual_tokens``
            (B, L, token_channels) and ``grid`` (h, w), L = h * w.
        """
        maps, cls = self._split(inputs)
        grid = tuple(maps[self.grid_index].shape[-2:])

        def tokens(fmap: Tensor) -> Tensor:  # (B, C, H, W) -> (B, h*w, C) on the grid
            if tuple(fmap.shape[-2:]) != grid:
                fmap = resize(fmap, size=grid, mode='bilinear', align_corners=False)
            return fmap.flatten(2).transpose(1, 2)

        layers = [proj(tokens(maps[i])) for i, proj in zip(self.layer_indices, self.layer_projs)]
        layers_cls = None
        if all(cls[i] is not None for i in self.layer_indices):
            layers_cls = [proj(cls[i]) for i, proj in zip(self.layer_indices, self.layer_projs)]
        return dict(layers=layers, layers_cls=layers_cls,
                    visual_tokens=self.token_proj(tokens(maps[self.token_index])), grid=grid)
