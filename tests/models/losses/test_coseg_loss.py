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


# The real training batch: 8 images x 20 slots at 224 x 224 (401,408 valid pixels per slot,
# more than float16's largest finite value, 65,504).
REAL_BATCH = (8, 20, 224, 224)
# Unit roundoff (round to nearest) of the low-precision formats.
UNIT_ROUNDOFF = {torch.float16: 2.0**-11, torch.bfloat16: 2.0**-8}


def _real_batch_inputs():
    generator = torch.Generator().manual_seed(0)
    B, N, H, W = REAL_BATCH
    logits = 3 * torch.randn(REAL_BATCH, generator=generator)
    target = torch.rand(REAL_BATCH, generator=generator) > 0.7
    valid = torch.ones(B, H, W, dtype=torch.bool)
    valid[:, :16] = False  # a band of ignored pixels
    pred, vocab = torch.randn(B, N, 64, generator=generator), torch.randn(172, 64,
                                                                          generator=generator)
    labels = torch.randint(0, 172, (B, N), generator=generator)
    return logits, target, valid, pred, vocab, labels


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_loss_under_autocast_equals_float32_at_the_real_batch(dtype):
    """CPU autocast, the inputs in the dtype a mixed-precision head/neck gives them.

    Two comparisons: (1) against float32 on the same rounded inputs: the loss itself must add
    no error, so rel 1e-6 (float32 summation order is the only difference); (2) against float32
    on the unrounded inputs: rounding each input by at most u (unit roundoff: 2^-11 float16,
    2^-8 bfloat16) moves the BCE mean by at most u * mean|logit| (|d BCE / d x| <= 1), and the
    cross-entropy by at most 4u / tau (a cosine moves by <= 2u, each logit by <= 2u / tau, a
    cross-entropy by <= 2 max |d logit|).
    """
    logits, target, valid, pred, vocab, labels = _real_batch_inputs()
    low_logits, low_pred = logits.to(dtype), pred.to(dtype)
    for contrast in ('sequence', 'vocabulary'):
        loss = CoSegLoss(mask_weight=1.0, lang_weight=1.0, temperature=0.08, contrast=contrast)
        with torch.autocast('cpu', dtype=dtype):
            mixed = loss(low_logits, target, valid, low_pred, labels, vocab)
        same_inputs = loss(low_logits.float(), target, valid, low_pred.float(), labels, vocab)
        exact = loss(logits, target, valid, pred, labels, vocab)
        u = UNIT_ROUNDOFF[dtype]
        for key, bound in (('loss_coseg_mask', u * logits.abs().mean().item()),
                           ('loss_coseg_lang', 4 * u / 0.08)):
            assert mixed[key].dtype == torch.float32
            assert mixed[key].item() == pytest.approx(same_inputs[key].item(), rel=1e-6), key
            assert abs(mixed[key].item() - exact[key].item()) <= bound, key
        assert mixed['loss_coseg_mask'].item() > 0.5  # ~1.39 for these logits, not 0


def test_mask_loss_in_pure_float16_is_finite_and_right():
    logits, target, valid = _real_batch_inputs()[:3]
    half = logits.half()
    got = mask_bce_loss(half, target, valid)
    assert torch.isfinite(got)
    assert got.item() == pytest.approx(mask_bce_loss(half.float(), target, valid).item(),
                                       rel=1e-6)
