"""What CoSeg's loss does with a label map that is all ignore (docs/troubleshooting.md).

The targets are N "unlabeled" slots with empty masks. The mask loss is 0 with no gradient. The
language term depends on the contrast: the paper's ``'sequence'`` contrast compares each slot with
the N targets of its own image, which are then all "unlabeled", so each row is ``log N`` with no
gradient: such an image teaches the model nothing, yet its rows count in the batch's mean.
``'vocabulary'`` contrast pulls every slot towards "unlabeled".
"""
import math

import pytest
import torch
import torch.nn.functional as F

from coseg_mmseg.models import AreaRankedAssigner, CoSegLoss

N, K, D, H, W = 4, 3, 8, 6, 6


def _inputs(seg_maps: torch.Tensor):
    torch.manual_seed(0)
    B = seg_maps.shape[0]
    mask_logits = torch.randn(B, N, H, W, requires_grad=True)
    pred = torch.randn(B, N, D, requires_grad=True)
    vocab = torch.randn(K + 1, D)  # "unlabeled" last
    labels, masks = AreaRankedAssigner().assign_targets(seg_maps, num_slots=N, num_classes=K)
    return mask_logits, masks, seg_maps != 255, pred, labels, vocab


def test_all_ignore_targets_are_unlabeled_empty_slots():
    labels, masks = AreaRankedAssigner().assign_targets(torch.full((1, H, W), 255), num_slots=N,
                                                        num_classes=K)
    assert labels.tolist() == [[K] * N]
    assert not masks.any()


def test_sequence_contrast_all_ignore_is_constant_without_gradient():
    mask_logits, masks, valid, pred, labels, vocab = _inputs(torch.full((1, H, W), 255))
    out = CoSegLoss(lang_weight=0.08, temperature=0.08)(mask_logits, masks, valid, pred, labels,
                                                         vocab)
    assert out['loss_coseg_mask'].item() == 0.0
    assert out['loss_coseg_lang'].item() == pytest.approx(0.08 * math.log(N), rel=1e-6)
    (out['loss_coseg_mask'] + out['loss_coseg_lang']).backward()
    assert mask_logits.grad.abs().max().item() == 0.0
    assert pred.grad.abs().max().item() < 1e-5  # zero up to rounding: no slot learns anything


def test_sequence_contrast_all_ignore_image_dilutes_the_batch_mean():
    seg = torch.full((2, H, W), 255)
    seg[1, :3] = 0
    seg[1, 3:] = 2
    mask_logits, masks, valid, pred, labels, vocab = _inputs(seg)
    loss = CoSegLoss(lang_weight=1.0)
    both = loss(mask_logits, masks, valid, pred, labels, vocab)
    alone = loss(mask_logits[1:], masks[1:], valid[1:], pred[1:], labels[1:], vocab)
    # the mask loss averages over valid pixels only: the all-ignore image does not change it
    assert both['loss_coseg_mask'].item() == pytest.approx(alone['loss_coseg_mask'].item(),
                                                           rel=1e-6)
    # the language term averages over all B * N slots: log N for each slot of the empty image
    assert both['loss_coseg_lang'].item() == pytest.approx(
        (alone['loss_coseg_lang'].item() + math.log(N)) / 2, rel=1e-6)


def test_vocabulary_contrast_all_ignore_pulls_every_slot_to_unlabeled():
    mask_logits, masks, valid, pred, labels, vocab = _inputs(torch.full((1, H, W), 255))
    out = CoSegLoss(contrast='vocabulary', lang_weight=1.0, temperature=0.08)(
        mask_logits, masks, valid, pred, labels, vocab)
    assert out['loss_coseg_mask'].item() == 0.0
    out['loss_coseg_lang'].backward()
    assert pred.grad.abs().max().item() > 1e-3
    cos = F.cosine_similarity(pred.detach(), vocab[K].expand_as(pred), dim=-1)  # (1, N)
    stepped = pred.detach() - 0.01 * pred.grad
    cos_after = F.cosine_similarity(stepped, vocab[K].expand_as(pred), dim=-1)
    assert (cos_after > cos).all()
