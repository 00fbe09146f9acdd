import math

import pytest
import torch

from coseg_mmseg.models import (CoSegLoss, mask_bce_loss, sequence_contrastive_loss,
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
