"""SetMatchingAssigner: slots matched to the classes of an image (Hungarian, DETR-style)."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.structures import InstanceData
from mmseg.models.assigners import HungarianAssigner
from mmseg.registry import TASK_UTILS
from torch import Tensor

from ..utils.label_ids import check_label_ids
from .base_slot_assigner import BaseSlotAssigner

# The costs of set matching when a config names none: mask BCE + mask Dice + naming, each
# weighted 1. mmseg's DiceCost with these settings is our Dice, 1 - 2 sum(y p) / sum(y + p)
# (eps=0: every class costed has a valid pixel, so the sum is positive).
DEFAULT_MATCH_COSTS = (dict(type='MaskBCECost', weight=1.0),
                       dict(type='DiceCost', weight=1.0, pred_act=True, eps=0.0),
                       dict(type='NamingCost', weight=1.0))


@TASK_UTILS.register_module()
class SetMatchingAssigner(HungarianAssigner, BaseSlotAssigner):
    """Each image's classes go to the slots of least total cost (Carion et al., DETR, 2020).

    Area-ranked targets (:class:`AreaRankedAssigner`) make slot k predict "the k-th largest
    class of the image"; the CoSeg paper names set matching as future work. Per image, the cost
    of giving slot n the present class m is the weighted sum of ``match_costs`` (mmseg's
    :class:`HungarianAssigner`, which solves the assignment with scipy's
    ``linear_sum_assignment`` on CPU), by default

    ``MaskBCECost + DiceCost + NamingCost`` = mean BCE(mask_n, gt_m) + Dice(mask_n, gt_m)
    + -log p_n(m),

    the mask costs over the image's valid pixels only (ignore pixels are dropped from both
    masks before the costs see them), ``p_n`` the slot's label probabilities over the training
    vocabulary (:meth:`FiLMCLIPSegHead.name_slots`). The matched slots get their class and its
    mask; every other slot "unlabeled" and an empty mask. With more classes present than
    slots, the N classes of the least-cost assignment are kept. No gradient flows through the
    matching.

    Config: ``decode_head.train_cfg=dict(assigner=dict(type='SetMatchingAssigner'))``
    (``configs/_base_/models/coseg_set-matching.py``); a cost's weight, e.g. the naming
    cost's: ``train_cfg.assigner.match_costs.2.weight=2.0``.

    Args:
        match_costs: Configs of the match costs (``TASK_UTILS``), each reading
            ``pred_instances`` ``masks`` (N, P) logits and ``label_probs`` (N, K + 1), and
            ``gt_instances`` ``masks`` (M, P) bool and ``labels`` (M,). Default:
            :data:`DEFAULT_MATCH_COSTS`.
    """

    needs_predictions = True

    def __init__(self, match_costs: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(
            match_costs=[dict(c) for c in DEFAULT_MATCH_COSTS] if match_costs is None
            else match_costs)

    def assign_targets(self, seg_maps: Tensor, *, num_slots: int, num_classes: int,
                       ignore_index: int = 255, mask_logits: Optional[Tensor] = None,
                       slot_probs: Optional[Tensor] = None,
                       names: Optional[Sequence[str]] = None) -> Tuple[Tensor, Tensor]:
        """(B, N) labels and (B, N, H, W) masks by set matching: see
        :meth:`BaseSlotAssigner.assign_targets`. The head passes detached predictions, and
        the targets (ids, boolean masks) carry no gradient.

        Raises:
            ValueError: A label map holds an id outside the vocabulary, or the shapes of
                ``mask_logits``, ``slot_probs`` and ``seg_maps`` disagree.
        """
        B, N, K = seg_maps.shape[0], num_slots, num_classes
        if (mask_logits is None or slot_probs is None
                or mask_logits.shape != (B, N) + tuple(seg_maps.shape[-2:])
                or slot_probs.shape != (B, N, K + 1)):
            shapes = [None if t is None else tuple(t.shape) for t in (mask_logits, slot_probs)]
            raise ValueError(f'SetMatchingAssigner: mask_logits {shapes[0]}, slot_probs '
                             f'{shapes[1]} and seg_maps {tuple(seg_maps.shape)} disagree '
                             f'(expected ({B}, {N}, H, W), ({B}, {N}, {K + 1}), (B, H, W))')
        check_label_ids(seg_maps, num_classes=K, ignore_index=ignore_index, names=names)
        labels = seg_maps.new_full((B, N), K, dtype=torch.long)
        masks = torch.zeros(mask_logits.shape, dtype=torch.bool, device=mask_logits.device)
        for b in range(B):
            valid = seg_maps[b] != ignore_index
            present = seg_maps[b][valid].unique()  # (M,) sorted class ids
            if present.numel() == 0:
                continue
            gt = seg_maps[b][None] == present[:, None, None]  # (M, H, W)
            keep = valid.flatten()  # the costs see the valid pixels only
            preds = InstanceData(masks=mask_logits[b].flatten(1)[:, keep].float(),
                                 label_probs=slot_probs[b])
            gts = InstanceData(masks=gt.flatten(1)[:, keep], labels=present.long())
            slots, cols = self.assign(preds, gts)
            slots, cols = slots.to(labels.device), cols.to(labels.device)
            labels[b, slots] = present[cols].long()
            masks[b, slots] = gt[cols]
        return labels, masks
