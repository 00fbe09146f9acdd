"""CLIPTokenMaps: puts mmseg's own decode heads on FrozenCLIPBackbone."""
from typing import Tuple

from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..features import BackboneFeatures


@MODELS.register_module()
class CLIPTokenMaps(BaseModule):
    """Turn :class:`FrozenCLIPBackbone`'s token features into the tuple of feature maps an
    mmseg decode head reads (``FCNHead``, ``UPerHead``, ... with ``in_index``), so that a
    stock ``EncoderDecoder`` can train one on the frozen CLIP (e.g. a closed-set baseline).

    Nothing is learned: tokens are only put back on their patch grid. The tuple holds every
    block of ``backbone.out_indices`` (shallow to deep, C channels each), then CLIP's final
    ``visual_tokens`` (D channels) when the backbone computed them.
    """

    def forward(self, features: BackboneFeatures) -> Tuple[Tensor, ...]:
        """Args:
            features: ``layers`` (list of (B, L, C)), ``grid`` (h, w) with L = h * w, and
                optionally ``visual_tokens`` (B, L, D).

        Returns:
            (B, C, h, w) per block, then (B, D, h, w) from ``visual_tokens`` if present.
        """
        h, w = features['grid']
        tokens = list(features['layers'])
        if features.get('visual_tokens') is not None:
            tokens.append(features['visual_tokens'])
        return tuple(t.transpose(1, 2).reshape(t.shape[0], t.shape[2], h, w) for t in tokens)
