"""Set matching of slots to ground-truth classes (SetMatchingAssigner and its default costs,
mmseg's HungarianAssigner and DiceCost among them), on hand-made cases."""
import math

import pytest
import torch
from mmengine.structures import InstanceData
from mmseg.registry import TASK_UTILS

from coseg_mmseg.models import SetMatchingAssigner

BIG = 20.0  # logit of a confident pixel: sigmoid(20) ~ 1 - 2e-9


def stripes(num: int, width: int = 2) -> torch.Tensor:
    """A (1, num * width) label map of ``num`` vertical stripes: class i on stripe i."""
    return torch.arange(num).repeat_interleave(width)[None]


def perfect_logits(seg_map: torch.Tensor, classes) -> torch.Tensor:
    """(N, H, W) logits whose slot n is a perfect mask of ``classes[n]`` (None: empty)."""
    return torch.stack([torch.where(seg_map == c, BIG, -BIG) if c is not None else
                        torch.full(seg_map.shape, -BIG) for c in classes])


def uniform_probs(n: int, k: int) -> torch.Tensor:
    return torch.full((1, n, k + 1), 1.0 / (k + 1))


def matcher(bce_weight: float = 1.0, dice_weight: float = 1.0,
            name_weight: float = 1.0) -> SetMatchingAssigner:
    """The shipped costs (configs/_base_/models/coseg_set-matching.py) with these weights."""
    return TASK_UTILS.build(dict(type='SetMatchingAssigner', match_costs=[
        dict(type='MaskBCECost', weight=bce_weight),
        dict(type='DiceCost', weight=dice_weight, pred_act=True, eps=0.0),
        dict(type='NamingCost', weight=name_weight)]))


def set_matching_targets(mask_logits, slot_probs, seg_maps, *, num_classes, ignore_index=255,
                         names=None, **weights):
    """(labels, masks) of :class:`SetMatchingAssigner` with the shipped costs so weighted."""
    return matcher(**weights).assign_targets(
        seg_maps, num_slots=mask_logits.shape[1], num_classes=num_classes,
        ignore_index=ignore_index, mask_logits=mask_logits, slot_probs=slot_probs, names=names)


def pairwise_mask_costs(logits, gt, valid):
    """(bce, dice) (N, M) of the default costs on the valid pixels, as the assigner calls
    them."""
    keep = valid.flatten()
    preds = InstanceData(masks=logits.flatten(1)[:, keep].float())
    gts = InstanceData(masks=gt.flatten(1)[:, keep])
    bce, dice, _ = SetMatchingAssigner().match_costs
    return bce(preds, gts), dice(preds, gts)


def test_the_default_costs_are_the_shipped_ones():
    """No match_costs: mask BCE, mmseg's Dice (sigmoid, no eps) and naming, each weighted 1."""
    costs = SetMatchingAssigner().match_costs
    assert [type(c).__name__ for c in costs] == ['MaskBCECost', 'DiceCost', 'NamingCost']
    assert [c.weight for c in costs] == [1.0, 1.0, 1.0]
    assert (costs[1].pred_act, costs[1].eps, costs[1].naive_dice) == (True, 0.0, True)
    assert SetMatchingAssigner.needs_predictions


def test_pairwise_costs_hand_computed():
    logits = torch.tensor([[[0.0, math.log(3.0), 5.0]]])  # p 0.5, 0.75 (ignored pixel last)
    gt = torch.tensor([[[True, False, True]], [[False, True, False]]])
    valid = torch.tensor([[True, True, False]])
    bce, dice = pairwise_mask_costs(logits, gt, valid)
    assert bce.shape == dice.shape == (1, 2)
    # class 0: targets (1, 0): -log 0.5 - log 0.25; class 1: targets (0, 1): -log 0.5 - log 0.75
    assert bce[0, 0].item() == pytest.approx((math.log(2) + math.log(4)) / 2, rel=1e-6)
    assert bce[0, 1].item() == pytest.approx((math.log(2) + math.log(4 / 3)) / 2, rel=1e-6)
    assert dice[0, 0].item() == pytest.approx(1 - 2 * 0.5 / 2.25, rel=1e-6)
    assert dice[0, 1].item() == pytest.approx(1 - 2 * 0.75 / 2.25, rel=1e-6)


def test_least_total_cost_not_greedy():
    """Greedy (row by row) would give slot 0 class 0 (cost 1) and slot 1 class 1 (cost 10)."""
    cost = torch.tensor([[1.0, 2.0], [1.5, 10.0]])  # -log p: the naming cost alone
    probs = torch.zeros(1, 2, 3)
    probs[0, :, :2] = (-cost).exp()
    labels, _ = set_matching_targets(torch.zeros(1, 2, 1, 4), probs, stripes(2), num_classes=2,
                                     bce_weight=0.0, dice_weight=0.0)
    assert labels.tolist() == [[1, 0]]


def test_a_permutation_of_perfect_masks_is_matched_to_the_permutation():
    seg = stripes(4)  # classes 0..3
    order = [2, 0, 3, 1]
    labels, masks = set_matching_targets(perfect_logits(seg, order)[None], uniform_probs(4, 4),
                                         seg, num_classes=4, name_weight=0.0)
    assert labels.tolist() == [order]
    for n, c in enumerate(order):
        assert torch.equal(masks[0, n], seg == c)


def test_naming_alone_decides_when_the_masks_say_nothing():
    seg = stripes(3)
    probs = torch.full((1, 3, 4), 0.01)
    for n, c in enumerate([1, 2, 0]):
        probs[0, n, c] = 0.97
    labels, _ = set_matching_targets(torch.zeros(1, 3, 1, 6), probs, seg, num_classes=3,
                                     bce_weight=0.0, dice_weight=0.0)
    assert labels.tolist() == [[1, 2, 0]]


def test_more_slots_than_classes_leaves_the_rest_unlabeled_with_empty_masks():
    seg = stripes(2)  # classes 0, 1 of a 5-class vocabulary
    logits = perfect_logits(seg, [None, 1, None, 0])[None]
    labels, masks = set_matching_targets(logits, uniform_probs(4, 5), seg, num_classes=5)
    assert labels.tolist() == [[5, 1, 5, 0]]
    assert not masks[0, 0].any() and not masks[0, 2].any()
    assert torch.equal(masks[0, 1], seg == 1) and torch.equal(masks[0, 3], seg == 0)


def test_more_classes_than_slots_keeps_the_best_matched():
    """Two slots, four classes: the two classes the slots predict are the ones kept."""
    seg = stripes(4)
    logits = perfect_logits(seg, [3, 1])[None]
    labels, masks = set_matching_targets(logits, uniform_probs(2, 4), seg, num_classes=4)
    assert labels.tolist() == [[3, 1]]
    assert torch.equal(masks[0, 0], seg == 3)


def test_ignore_pixels_are_no_class_and_batches_are_matched_per_image():
    seg = torch.stack([stripes(2), torch.full((1, 4), 255)])  # image 1: all ignored
    seg[0, 0, 0] = 255
    logits = perfect_logits(stripes(2), [1, 0])[None].expand(2, -1, -1, -1)
    labels, masks = set_matching_targets(logits, uniform_probs(2, 2).expand(2, -1, -1), seg,
                                         num_classes=2)
    assert labels.tolist() == [[1, 0], [2, 2]]
    assert masks[0, 1].tolist() == [[False, True, False, False]]  # the ignore pixel is no mask
    assert not masks[1].any()


def test_bad_ids_and_shapes_are_named():
    seg = stripes(2)
    with pytest.raises(ValueError, match=r'a\.png holds class ids \[1\]'):
        set_matching_targets(torch.zeros(1, 2, 1, 4), uniform_probs(2, 1), seg, num_classes=1,
                             names=['a.png'])
    with pytest.raises(ValueError, match=r'\(1, 2, 6\).*disagree \(expected \(1, 2, H, W\), '
                                         r'\(1, 2, 3\), \(B, H, W\)\)'):
        set_matching_targets(torch.zeros(1, 2, 1, 4), uniform_probs(2, 5), seg, num_classes=2)
    with pytest.raises(ValueError, match=r'mask_logits None, slot_probs None'):
        matcher().assign_targets(seg, num_slots=2, num_classes=2)  # it needs the predictions


# ------------------------------------------------ class ids that are not the columns' indices
def stripes_of(ids, width: int = 2) -> torch.Tensor:
    """A (1, len(ids) * width) label map of vertical stripes of the given class ids."""
    return torch.tensor(ids).repeat_interleave(width)[None]


def test_slots_get_class_ids_not_column_indices():
    """Present classes 3, 7, 12 of a 15-class vocabulary: the matched slots are given those
    ids (columns 0, 1, 2 of the cost matrix would be other classes)."""
    seg = stripes_of([3, 7, 12])
    order = [12, None, 3, 7]
    labels, masks = set_matching_targets(perfect_logits(seg, order)[None], uniform_probs(4, 15),
                                         seg, num_classes=15, name_weight=0.0)
    assert labels.tolist() == [[12, 15, 3, 7]]
    for n, c in enumerate(order):
        assert torch.equal(masks[0, n], seg == c if c is not None else torch.zeros_like(seg))


def test_more_classes_than_slots_with_sparse_ids():
    seg = stripes_of([9, 2, 5, 0])
    labels, masks = set_matching_targets(perfect_logits(seg, [5, 0])[None], uniform_probs(2, 10),
                                         seg, num_classes=10)
    assert labels.tolist() == [[5, 0]]
    assert torch.equal(masks[0, 0], seg == 5) and torch.equal(masks[0, 1], seg == 0)


# ------------------------------------------------------------- the total cost, by its value
# Two slots, the classes 2 and 5 of a 6-class vocabulary and two ignored pixels whose logits
# would change every mask cost if they were counted. Soft logits, so no cost saturates.
COST_SEG = torch.tensor([[2, 2, 255, 5, 5, 255]])
COST_LOGITS = torch.tensor([[[1.5, 0.5, 3.0, -1.0, -0.5, 2.0]],
                            [[-1.0, 0.0, -2.0, 1.0, 2.0, 1.0]]])  # (2 slots, 1, 6)
WEIGHTS = dict(bce_weight=1.5, dice_weight=2.0, name_weight=0.5)


def hand_mask_cost(slot: int, cls: int) -> float:
    """bce_weight * mean BCE + dice_weight * Dice over the valid pixels, from the formulas."""
    terms, inter, total = [], 0.0, 0.0
    for x, c in zip(COST_LOGITS[slot, 0].tolist(), COST_SEG[0].tolist()):
        if c == 255:
            continue
        y, p = float(c == cls), 1 / (1 + math.exp(-x))
        terms.append(-(y * math.log(p) + (1 - y) * math.log(1 - p)))
        inter += y * p
        total += y + p
    return (WEIGHTS['bce_weight'] * sum(terms) / len(terms)
            + WEIGHTS['dice_weight'] * (1 - 2 * inter / total))


@pytest.mark.parametrize('weights', [WEIGHTS, None], ids=['weighted', 'default_weights'])
@pytest.mark.parametrize('margin', [1e-3, -1e-3])
def test_the_assignment_follows_the_weighted_total_cost(margin, weights, monkeypatch):
    """The naming cost is set to outweigh the masks' preference by exactly ``-margin``: the
    masks' assignment wins when the margin is positive, the names' when negative. A mask cost
    counting ignored pixels or missing its Dice term, a naming cost read from other columns
    than the present classes', or weights applied to the wrong term, move the decision."""
    if weights is None:  # the defaults: every cost weighted 1
        monkeypatch.setitem(WEIGHTS, 'bce_weight', 1.0)
        monkeypatch.setitem(WEIGHTS, 'dice_weight', 1.0)
        monkeypatch.setitem(WEIGHTS, 'name_weight', 1.0)
    # Masks prefer slot 0 -> class 2, slot 1 -> class 5 by `prefer` (> 0).
    prefer = (hand_mask_cost(0, 5) + hand_mask_cost(1, 2)
              - hand_mask_cost(0, 2) - hand_mask_cost(1, 5))
    assert prefer > 0.5
    # Names prefer the swap: name_weight * 2 log(r / q) = prefer - margin.
    r = 0.3
    q = r * math.exp(-(prefer - margin) / (2 * WEIGHTS['name_weight']))
    probs = torch.full((1, 2, 7), 0.05)  # columns 0 and 1 say nothing (equal for both slots)
    probs[0, 0, 2], probs[0, 0, 5] = q, r
    probs[0, 1, 2], probs[0, 1, 5] = r, q
    labels, masks = set_matching_targets(COST_LOGITS[None], probs, COST_SEG[None], num_classes=6,
                                         **(weights or {}))
    expected = [2, 5] if margin > 0 else [5, 2]
    assert labels.tolist() == [expected]
    for n, c in enumerate(expected):
        assert torch.equal(masks[0, n], COST_SEG == c)


def test_pairwise_costs_of_two_slots_and_a_single_valid_pixel():
    """Each slot's BCE is its own (two slots, so a sum over all slots would show), and one
    valid pixel is a mean over one term."""
    logits = torch.tensor([[[math.log(3.0), 7.0]], [[-math.log(3.0), -7.0]]])  # p 0.75, 0.25
    gt = torch.tensor([[[True, False]]])
    valid = torch.tensor([[True, False]])
    bce, dice = pairwise_mask_costs(logits, gt, valid)
    assert bce[:, 0].tolist() == pytest.approx([math.log(4 / 3), math.log(4)], rel=1e-6)
    assert dice[:, 0].tolist() == pytest.approx([1 - 1.5 / 1.75, 1 - 0.5 / 1.25], rel=1e-6)


def test_an_image_of_one_class_and_an_all_ignore_image_first():
    """The all-ignore image gets no targets and the images after it still do; an image
    holding a single class gives it to the best slot."""
    seg = torch.stack([torch.full((1, 4), 255), torch.full((1, 4), 1), stripes(2)])
    logits = torch.stack([perfect_logits(stripes(2), [None, 0]), perfect_logits(seg[1], [1, None]),
                          perfect_logits(stripes(2), [1, 0])])
    labels, masks = set_matching_targets(logits, uniform_probs(2, 2).expand(3, -1, -1), seg,
                                         num_classes=2)
    assert labels.tolist() == [[2, 2], [1, 2], [1, 0]]
    assert masks[1, 0].all() and not masks[1, 1].any() and not masks[0].any()


def test_labels_are_long_whatever_the_label_maps_dtype():
    seg = stripes(2).to(torch.int32)
    labels, _ = set_matching_targets(perfect_logits(seg, [1, 0])[None], uniform_probs(2, 2), seg,
                                     num_classes=2)
    assert labels.dtype == torch.long and labels.tolist() == [[1, 0]]
