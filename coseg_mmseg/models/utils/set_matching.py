"""Set matching of slots to ground-truth classes: the Hungarian alternative to area order.

Area-sorted targets (:func:`coexistence_targets`) make slot k predict "the k-th largest class
of the image". The CoSeg paper names set matching as future work; this is it, DETR-style
(Carion et al. 2020): per image, the cost of giving slot n the class m is

``bce_weight * BCE(mask_n, gt_m) + dice_weight * Dice(mask_n, gt_m)
+ name_weight * -log p_n(m)``

over the valid pixels, with ``p_n`` the slot's label probabilities over the training
vocabulary (:meth:`FiLMCLIPSegHead.name_slots`). The assignment of least total cost
(``scipy.optimize.linear_sum_assignment``, on CPU, per image) gives the matched slots their
class and its mask; every other slot gets "unlabeled" and an empty mask. With more classes
present than slots, the N classes of the least-cost assignment are kept.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from .label_ids import check_label_ids


def pairwise_mask_costs(mask_logits: Tensor, target_masks: Tensor,
                        valid: Tensor) -> Tuple[Tensor, Tensor]:
    """BCE and Dice of every slot's mask against every ground-truth mask of one image.

    Args:
        mask_logits: (N, H, W) logits.
        target_masks: (M, H, W) bool or {0, 1}.
        valid: (H, W) bool, False at ignore pixels (left out of both costs).

    Returns:
        ``bce`` (N, M): mean binary cross-entropy over the valid pixels; ``dice`` (N, M):
        ``1 - 2 sum(y p) / sum(y + p)``. Both float32.
    """
    keep = valid.flatten()
    x = mask_logits.flatten(1)[:, keep].float()  # (N, P)
    y = target_masks.flatten(1)[:, keep].float()  # (M, P)
    pixels = max(x.shape[1], 1)
    # BCE with logits = softplus(x) - x * y, summed over pixels as matrix products.
    bce = (F.softplus(x).sum(1, keepdim=True) - x @ y.t()) / pixels
    p = x.sigmoid()
    total = p.sum(1, keepdim=True) + y.sum(1)[None]  # (N, M)
    dice = 1 - 2 * (p @ y.t()) / total.clamp(min=1e-30)
    return bce, dice


def match_slots(cost: Tensor) -> Tuple[Tensor, Tensor]:
    """Least-cost one-to-one assignment of slots (rows) to classes (columns).

    Args:
        cost: (N, M) cost of giving slot n the class m.

    Returns:
        ``slots``, ``columns``: (min(N, M),) long, slot ``slots[i]`` gets column
        ``columns[i]``; sorted by slot.
    """
    rows, cols = linear_sum_assignment(cost.detach().float().cpu().numpy())
    return torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long)


@torch.no_grad()
def hungarian_targets(mask_logits: Tensor, slot_probs: Tensor, seg_maps: Tensor, *,
                      num_classes: int, ignore_index: int = 255, bce_weight: float = 1.0,
                      dice_weight: float = 1.0, name_weight: float = 1.0,
                      names: Optional[Sequence[str]] = None) -> Tuple[Tensor, Tensor]:
    """N (label, mask) targets per image by set matching (see the module docstring).

    Same outputs as :func:`coexistence_targets`, so the loss does not change; only which slot
    gets which class does. No gradient flows through the matching.

    Args:
        mask_logits: (B, N, H, W) predicted mask logits, at the label maps' size.
        slot_probs: (B, N, K + 1) label probabilities of each slot, "unlabeled" last.
        seg_maps: (B, H, W) integer class ids in ``[0, num_classes)`` or ``ignore_index``.
        num_classes: K; also the id of "unlabeled".
        ignore_index: Label of pixels that belong to no class.
        bce_weight, dice_weight, name_weight: Weights of the three costs.
        names: The label maps' file names, for error messages.

    Returns:
        ``labels`` (B, N) long ("unlabeled" = K for unmatched slots), and ``masks``
        (B, N, H, W) bool (empty for unmatched slots).

    Raises:
        ValueError: A label map holds an id outside the vocabulary, or the shapes disagree.
    """
    B, N = mask_logits.shape[:2]
    K = num_classes
    if mask_logits.shape[-2:] != seg_maps.shape[-2:] or slot_probs.shape != (B, N, K + 1):
        raise ValueError(f'hungarian_targets: mask_logits {tuple(mask_logits.shape)}, '
                         f'slot_probs {tuple(slot_probs.shape)} and seg_maps '
                         f'{tuple(seg_maps.shape)} disagree (expected (B, N, H, W), '
                         f'(B, N, {K + 1}), (B, H, W))')
    check_label_ids(seg_maps, num_classes=K, ignore_index=ignore_index, names=names)
    labels = seg_maps.new_full((B, N), K, dtype=torch.long)
    masks = torch.zeros(mask_logits.shape, dtype=torch.bool, device=mask_logits.device)
    name_cost = -slot_probs.float().clamp(min=1e-8).log()  # (B, N, K + 1)
    for b in range(B):
        valid = seg_maps[b] != ignore_index
        present = seg_maps[b][valid].unique()  # (M,) sorted class ids
        if present.numel() == 0:
            continue
        gt = seg_maps[b][None] == present[:, None, None]  # (M, H, W)
        bce, dice = pairwise_mask_costs(mask_logits[b], gt, valid)
        cost = bce_weight * bce + dice_weight * dice + name_weight * name_cost[b][:, present]
        slots, cols = match_slots(cost)
        slots, cols = slots.to(labels.device), cols.to(labels.device)
        labels[b, slots] = present[cols].long()
        masks[b, slots] = gt[cols]
    return labels, masks
