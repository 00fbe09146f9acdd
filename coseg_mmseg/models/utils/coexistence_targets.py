"""Per-image CoSeg targets: the classes present, largest first, truncated/padded to N slots."""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor


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
    B = seg_maps.shape[0]
    labels = seg_maps.new_full((B, num_slots), num_classes, dtype=torch.long)
    masks = seg_maps.new_zeros((B, num_slots) + tuple(seg_maps.shape[1:]), dtype=torch.bool)
    for b in range(B):
        seg = seg_maps[b]
        ids, areas = torch.unique(seg[seg != ignore_index], return_counts=True)  # ids ascending
        if ids.numel() and (ids.min() < 0 or ids.max() >= num_classes):
            bad = ids[(ids < 0) | (ids >= num_classes)].tolist()
            where = names[b] if names else f'label map {b} of the batch'
            raise ValueError(f'{where} holds class ids {bad} outside the vocabulary of '
                             f'{num_classes} classes (ignore_index={ignore_index})')
        order = torch.argsort(areas, descending=True, stable=True)[:num_slots]
        kept = ids[order].long()
        labels[b, :len(kept)] = kept
        masks[b, :len(kept)] = seg[None] == kept[:, None, None]
    return labels, masks
