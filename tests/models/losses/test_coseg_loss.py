import math

import pytest
import torch

from coseg_mmseg.models import (CoSegLoss, mask_bce_loss, mask_dice_loss,
                                sequence_contrastive_loss,
                                vocabulary_contrastive_loss)


def test_bce_excludes_ignored_pixels():
    logits = torch.tensor([[[[0.0, math.log(3.0), 5.0]]]])  # sigmoid: 0.5, 0.75, ~1
    target = torch.tensor([[[[1, 1, 0]]]], dtype=torch.bool)
    valid = torch.tensor([[[True, True, False]]])
    expected = (-math.log(0.5) - math.log(0.75)) / 2
    assert mask_bce_loss(logits, target, valid).item() == pytest.approx(expected, rel=1e-6)
    assert mask_bce_loss(logits, target, torch.zeros_like(valid)).item() == 0.0


def test_sequence_contrastive_hand_computed():
    pred = torch.tensor([[[2.0, 0.0], [0.0, 1.0]]])  # normalised inside
    target = torch.tensor([[[1.0, 0.0], [0.0, 3.0]]])
    # logits = I / tau with tau = 0.5: each row [2, 0] -> -log(e^2 / (e^2 + 1))
    expected = math.log(1 + math.exp(-2))
    got = sequence_contrastive_loss(pred, target, temperature=0.5)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_vocabulary_contrastive_hand_computed():
    vocab = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    pred = torch.tensor([[[1.0, 0.0]]])
    # logits [1, 0, -1] (tau = 1), target 0
    expected = -math.log(math.e / (math.e + 1 + math.exp(-1)))
    got = vocabulary_contrastive_loss(pred, vocab, torch.tensor([[0]]), temperature=1.0)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_module_weights_the_terms():
    torch.manual_seed(0)
    masks, target = torch.randn(2, 3, 4, 4), torch.rand(2, 3, 4, 4) > 0.5
    valid = torch.ones(2, 4, 4, dtype=torch.bool)
    pred, vocab = torch.randn(2, 3, 8), torch.randn(5, 8)
    labels = torch.tensor([[0, 1, 4], [2, 4, 4]])
    loss = CoSegLoss(mask_weight=2.0, lang_weight=0.08, temperature=0.08)
    out = loss(masks, target, valid, pred, labels, vocab)
    assert set(out) == {'loss_coseg_mask', 'loss_coseg_lang'}
    assert out['loss_coseg_mask'].item() == pytest.approx(
        2.0 * mask_bce_loss(masks, target, valid).item(), rel=1e-6)
    assert out['loss_coseg_lang'].item() == pytest.approx(
        0.08 * sequence_contrastive_loss(pred, vocab[labels], temperature=0.08).item(),
        rel=1e-6)
    vocab_mode = CoSegLoss(contrast='vocabulary')(masks, target, valid, pred, labels, vocab)
    assert vocab_mode['loss_coseg_lang'].item() == pytest.approx(
        0.08 * vocabulary_contrastive_loss(pred, vocab, labels, temperature=0.08).item(),
        rel=1e-6)


def test_bad_settings():
    with pytest.raises(ValueError, match='contrast'):
        CoSegLoss(contrast='pairs')
    with pytest.raises(ValueError, match='temperature'):
        CoSegLoss(temperature=0)
    with pytest.raises(ValueError, match='loss_'):
        CoSegLoss(loss_name='coseg')


def test_dice_hand_computed_over_the_whole_batch():
    """One ratio over every pixel of every slot and image, not a mean of per-mask ratios."""
    # p = sigmoid: 0.5, 0.75 | 0.25, 0.5 over two images of one slot and two pixels.
    logits = torch.tensor([[[[0.0, math.log(3.0)]]], [[[-math.log(3.0), 0.0]]]])
    target = torch.tensor([[[[1, 0]]], [[[1, 1]]]], dtype=torch.bool)
    valid = torch.ones(2, 1, 2, dtype=torch.bool)
    # sum(y p) = 0.5 + 0.25 + 0.5 = 1.25; sum(y + p) = 3 + (0.5 + 0.75 + 0.25 + 0.5) = 5
    assert mask_dice_loss(logits, target, valid).item() == pytest.approx(1 - 2 * 1.25 / 5)
    # The mean of per-image Dice losses would differ: (1 - 1/2.25 + 1 - 1.5/2.75) / 2.
    assert (1 - 2 * 1.25 / 5) != pytest.approx((2 - 1 / 2.25 - 1.5 / 2.75) / 2)


def test_dice_leaves_out_ignored_pixels():
    logits = torch.tensor([[[[0.0, math.log(3.0), 5.0]]]])  # p 0.5, 0.75, ~0.993 (ignored)
    target = torch.tensor([[[[1, 0, 1]]]], dtype=torch.bool)
    valid = torch.tensor([[[True, True, False]]])
    # valid pixels: sum(y p) = 0.5; sum(y + p) = 1 + 1.25
    assert mask_dice_loss(logits, target, valid).item() == pytest.approx(1 - 1 / 2.25)
    assert mask_dice_loss(logits, target, torch.zeros_like(valid)).item() == 0.0
    perfect = torch.tensor([[[[30.0, -30.0, 0.0]]]])
    assert mask_dice_loss(perfect, target, valid).item() == pytest.approx(0.0, abs=1e-6)


def test_dice_sums_in_float32_under_half_precision():
    """Half-precision logits, float32 sums: the value of the float32 computation."""
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 64, 64) * 3
    target = torch.rand(2, 4, 64, 64) > 0.7
    valid = torch.rand(2, 64, 64) > 0.1
    half = mask_dice_loss(logits.half(), target, valid)
    assert half.dtype == torch.float32
    ref = mask_dice_loss(logits.half().float(), target, valid)
    assert half.item() == pytest.approx(ref.item(), rel=1e-6)


def test_dice_weight_adds_a_dice_key_only_when_set():
    torch.manual_seed(0)
    masks, target = torch.randn(2, 3, 4, 4), torch.rand(2, 3, 4, 4) > 0.5
    valid = torch.ones(2, 4, 4, dtype=torch.bool)
    pred, vocab = torch.randn(2, 3, 8), torch.randn(5, 8)
    labels = torch.tensor([[0, 1, 4], [2, 4, 4]])
    paper = CoSegLoss()(masks, target, valid, pred, labels, vocab)
    assert set(paper) == {'loss_coseg_mask', 'loss_coseg_lang'}
    authors = CoSegLoss(dice_weight=0.18, lang_weight=0.12, contrast='vocabulary')(
        masks, target, valid, pred, labels, vocab)
    assert authors['loss_coseg_dice'].item() == pytest.approx(
        0.18 * mask_dice_loss(masks, target, valid).item(), rel=1e-6)
    assert authors['loss_coseg_mask'].item() == pytest.approx(paper['loss_coseg_mask'].item())
    assert authors['loss_coseg_lang'].item() == pytest.approx(
        0.12 * vocabulary_contrastive_loss(pred, vocab, labels, temperature=0.08).item(),
        rel=1e-6)
    with pytest.raises(ValueError, match='dice_weight'):
        CoSegLoss(dice_weight=-1)
