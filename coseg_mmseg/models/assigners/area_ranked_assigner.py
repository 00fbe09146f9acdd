"""AreaRankedAssigner: the CoSeg paper's targets, the classes of an image largest first."""
from typing import Optional, Sequence, Tuple

import torch
from mmseg.registry import TASK_UTILS
from torch import Tensor

from ..utils.label_ids import check_label_ids
from .base_slot_assigner import BaseSlotAssigner


@TASK_UTILS.register_module()
class AreaRankedAssigner(BaseSlotAssigner):
    """Slot k learns the k-th largest class of the image (CoSeg paper, sections 3.4, 3.7).

    The classes present in an image (ignore pixels excluded) are sorted by mask area, largest
    first (ties: lower class id first), truncated to the N slots, and padded with the
    "unlabeled" label (K) and an empty mask. The predictions play no part; the whole batch is
    ranked at once, with no per-image host sync.

    Config: ``decode_head.train_cfg=dict(assigner=dict(type='AreaRankedAssigner'))`` (the
    head's default).
    """

    def assign_targets(self, seg_maps: Tensor, *, num_slots: int, num_classes: int,
                       ignore_index: int = 255, mask_logits: Optional[Tensor] = None,
                       slot_probs: Optional[Tensor] = None,
                       names: Optional[Sequence[str]] = None) -> Tuple[Tensor, Tensor]:
        """(B, N) labels and (B, N, H, W) masks, largest class first: see
        :meth:`BaseSlotAssigner.assign_targets`; ``mask_logits`` and ``slot_probs`` are not
        read."""
        B, K = seg_maps.shape[0], num_classes
        check_label_ids(seg_maps, num_classes=K, ignore_index=ignore_index, names=names)
        valid = seg_maps != ignore_index
        bins = torch.where(valid, seg_maps, K).flatten(1).long()  # (B, H*W), ignore -> bin K
        areas = torch.zeros(B, K + 1, dtype=torch.long, device=seg_maps.device)
        areas = areas.scatter_add_(1, bins, torch.ones_like(bins))[:, :K]  # (B, K) px per class
        areas, ids = areas.sort(dim=1, descending=True, stable=True)  # ties: lower id first
        n = min(num_slots, K)
        labels = seg_maps.new_full((B, num_slots), K, dtype=torch.long)
        labels[:, :n] = torch.where(areas[:, :n] > 0, ids[:, :n], K)  # absent -> unlabeled
        masks = (seg_maps[:, None] == labels[:, :, None, None]) & (labels < K)[:, :, None, None]
        return labels, masks  # (B, N), (B, N, H, W)
