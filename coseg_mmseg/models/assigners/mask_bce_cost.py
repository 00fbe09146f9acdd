"""MaskBCECost: the mean binary cross-entropy of every slot's mask against every class's."""
from typing import Union

import torch.nn.functional as F
from mmengine.structures import InstanceData
from mmseg.models.assigners.match_cost import BaseMatchCost
from mmseg.registry import TASK_UTILS
from torch import Tensor


@TASK_UTILS.register_module()
class MaskBCECost(BaseMatchCost):
    """Mean binary cross-entropy of mask logits against binary masks, over the given pixels.

    mmseg's ``CrossEntropyLossCost`` is the same quantity written another way
    (``BCE(x, 1) y + BCE(x, 0) (1 - y)``, each through ``binary_cross_entropy_with_logits``):
    its float32 costs differ from these in the last bits
    (tests/models/assigners/test_mask_bce_cost.py), enough to flip a near-tied assignment, so
    set matching keeps this arithmetic, ``(sum softplus(x) - x . y) / P``, and its results.
    The pixels left out (ignore pixels) are the caller's to drop:
    :class:`SetMatchingAssigner` passes the valid pixels only.

    Args:
        weight: Cost weight.
    """

    def __init__(self, weight: Union[float, int] = 1.0) -> None:
        super().__init__(weight=weight)

    def __call__(self, pred_instances: InstanceData, gt_instances: InstanceData,
                 **kwargs) -> Tensor:
        """(N, M) costs.

        Args:
            pred_instances: ``masks`` (N, P) float logits.
            gt_instances: ``masks`` (M, P) bool or {0, 1}.

        Returns:
            (N, M) float32: ``weight`` x the mean BCE over the P pixels.
        """
        x = pred_instances.masks.float()  # (N, P)
        y = gt_instances.masks.float()  # (M, P)
        pixels = max(x.shape[1], 1)
        # BCE with logits = softplus(x) - x * y, summed over pixels as matrix products.
        bce = (F.softplus(x).sum(1, keepdim=True) - x @ y.t()) / pixels
        return bce * self.weight
