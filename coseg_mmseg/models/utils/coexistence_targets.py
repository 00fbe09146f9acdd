"""Per-image CoSeg targets: the classes present, largest first, truncated/padded to N slots."""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from .label_ids import check_label_ids


def coexistence_targets(seg_maps: Tensor, *, num_slots: int, num_classes: int,
                        ignore_index: int = 255,
                        names: Optional[Sequence[str]] = None) -> Tuple[Tensor, Tensor]:
    """Turn label maps into N (label, mask) pairs per image (CoSeg paper, sections 3.4, 3.7).

    The classes present in an image (ignore pixels excluded) are sorted by mask area, largest
    first (ties: lower class id first), truncated to ``num_slots``, and padded with the
    "unlabeled" label (``num_classes``) and an empty mask.

    Args:
        seg_maps: (B, H, W) integer class ids in ``[0, num_classes)`` or ``ignore_index``.
        num_slots: N.
        num_classes: Size of the vocabulary; also the id of "unlabeled".
        ignore_index: Label of pixels that belong to no class.
        names: The label maps' file names, for error messages.

    Returns:
        ``labels`` (B, N) long, and ``masks`` (B, N, H, W) bool.

    Raises:
        ValueError: A label map holds an id outside the vocabulary.
    """
    B, K = seg_maps.shape[0], num_classes
    check_label_ids(seg_maps, num_classes=K, ignore_index=ignore_index, names=names)
    valid = seg_maps != ignore_index
    bins = torch.where(valid, seg_maps, K).flatten(1).long()  # (B, H*W), ignore -> bin K
    areas = torch.zeros(B, K + 1, dtype=torch.long, device=seg_maps.device)
    areas = areas.scatter_add_(1, bins, torch.ones_like(bins))[:, :K]  # (B, K) pixels per class
    areas, ids = areas.sort(dim=1, descending=True, stable=True)  # ties: lower class id first
    n = min(num_slots, K)
    labels = seg_maps.new_full((B, num_slots), K, dtype=torch.long)
    labels[:, :n] = torch.where(areas[:, :n] > 0, ids[:, :n], K)  # absent classes -> unlabeled
    masks = (seg_maps[:, None] == labels[:, :, None, None]) & (labels < K)[:, :, None, None]
    return labels, masks  # (B, N), (B, N, H, W)
