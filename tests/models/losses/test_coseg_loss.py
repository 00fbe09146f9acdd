import functools
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


def bce_term(x: float, y: int) -> float:
    """One binary cross-entropy term from its definition: -(y log p + (1 - y) log(1 - p))."""
    p = 1 / (1 + math.exp(-x))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def test_bce_is_the_mean_over_pixels_and_slots_hand_computed():
    """Two images, two slots, one ignored pixel: the mean over the B x N x (valid pixels) terms,
    not over the valid pixels alone (which would make the loss N times too large)."""
    x = [[[0.0, math.log(3.0), 4.0], [math.log(3.0), -1.0, -4.0]],
         [[2.0, 0.5, -0.5], [-2.0, 1.0, 3.0]]]  # [image][slot][pixel]
    y = [[[1, 0, 1], [1, 1, 0]], [[0, 1, 1], [0, 0, 1]]]
    ok = [[True, True, False], [True, True, True]]  # [image][pixel]
    terms = [bce_term(x[b][n][p], y[b][n][p])
             for b in range(2) for n in range(2) for p in range(3) if ok[b][p]]
    assert len(terms) == 2 * 2 + 2 * 3
    logits = torch.tensor(x)[:, :, None]  # (2, 2, 1, 3)
    target = torch.tensor(y, dtype=torch.bool)[:, :, None]
    valid = torch.tensor(ok)[:, None]  # (2, 1, 3)
    got = mask_bce_loss(logits, target, valid).item()
    assert got == pytest.approx(sum(terms) / len(terms), rel=1e-6)


def test_module_weights_the_terms_hand_computed():
    """The module's three keys against values computed from the formulas: two slots,
    temperature 0.5, weights 2 (mask), 0.3 (lang) and 0.25 (Dice)."""
    x = [[0.0, math.log(3.0)], [math.log(3.0), 0.0]]  # one image, two slots, two pixels
    y = [[1, 0], [1, 1]]
    masks = torch.tensor(x)[None, :, None]  # (1, 2, 1, 2)
    target = torch.tensor(y, dtype=torch.bool)[None, :, None]
    valid = torch.ones(1, 1, 2, dtype=torch.bool)
    bce = sum(bce_term(x[n][p], y[n][p]) for n in range(2) for p in range(2)) / 4
    # -log 0.5 - log 0.25 - log 0.75 - log 0.5 over the 4 terms.
    assert bce == pytest.approx((2 * math.log(2) + math.log(4) + math.log(4 / 3)) / 4)
    probs = [0.5, 0.75, 0.75, 0.5]
    dice = 1 - 2 * (0.5 + 0.75 + 0.5) / (sum(probs) + 3)
    # Unit-length after normalisation: slot 0 along class 0, slot 1 at 45 degrees.
    pred = torch.tensor([[[3.0, 0.0], [1.0, 1.0]]])
    vocab = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-1.0, 0.0]])  # classes 0, 1, "unlabeled"
    labels = torch.tensor([[0, 1]])
    c = math.sqrt(0.5)
    # Sequence contrast, tau 0.5: row 0 logits (2, 0) -> target 0; row 1 (2c, 2c) -> target 1.
    sequence = (math.log(1 + math.exp(-2)) + math.log(2)) / 2
    # Vocabulary contrast: row 0 (2, 0, -2) -> 0; row 1 (2c, 2c, -2c) -> 1.
    vocabulary = (-math.log(math.exp(2) / (math.exp(2) + 1 + math.exp(-2)))
                  - math.log(math.exp(2 * c) / (2 * math.exp(2 * c) + math.exp(-2 * c)))) / 2
    for contrast, lang in (('sequence', sequence), ('vocabulary', vocabulary)):
        loss = CoSegLoss(mask_weight=2.0, lang_weight=0.3, temperature=0.5, contrast=contrast,
                         dice_weight=0.25)
        out = loss(masks, target, valid, pred, labels, vocab)
        assert set(out) == {'loss_coseg_mask', 'loss_coseg_lang', 'loss_coseg_dice'}
        assert out['loss_coseg_mask'].item() == pytest.approx(2.0 * bce, rel=1e-6)
        assert out['loss_coseg_lang'].item() == pytest.approx(0.3 * lang, rel=1e-6), contrast
        assert out['loss_coseg_dice'].item() == pytest.approx(0.25 * dice, rel=1e-6)


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
    # Not the mean of the per-image losses (1 - 1 / 2.25 and 1 - 1.5 / 2.75):
    per_image = [mask_dice_loss(logits[b:b + 1], target[b:b + 1], valid[b:b + 1]).item()
                 for b in range(2)]
    assert per_image == pytest.approx([1 - 1 / 2.25, 1 - 1.5 / 2.75])
    assert abs(sum(per_image) / 2 - mask_dice_loss(logits, target, valid).item()) > 1e-3


def test_dice_leaves_out_ignored_pixels():
    logits = torch.tensor([[[[0.0, math.log(3.0), 5.0]]]])  # p 0.5, 0.75, ~0.993 (ignored)
    target = torch.tensor([[[[1, 0, 1]]]], dtype=torch.bool)
    valid = torch.tensor([[[True, True, False]]])
    # valid pixels: sum(y p) = 0.5; sum(y + p) = 1 + 1.25
    assert mask_dice_loss(logits, target, valid).item() == pytest.approx(1 - 1 / 2.25)
    assert mask_dice_loss(logits, target, torch.zeros_like(valid)).item() == 0.0
    perfect = torch.tensor([[[[30.0, -30.0, 0.0]]]])
    assert mask_dice_loss(perfect, target, valid).item() == pytest.approx(0.0, abs=1e-6)


# Float64 references written from the formulas, independent of the module under test.
def reference_bce(logits, target, valid) -> float:
    """Mean of -(y log p + (1 - y) log(1 - p)) over every slot and valid pixel."""
    x, y = logits.double(), target.double()
    weight = valid[:, None].double().expand_as(x)
    log_p, log_q = -torch.log1p(torch.exp(-x)), -torch.log1p(torch.exp(x))
    return (-(y * log_p + (1 - y) * log_q) * weight).sum().item() / weight.sum().item()


def reference_dice(logits, target, valid) -> float:
    p, w = torch.sigmoid(logits.double()), valid[:, None].double()
    y = target.double() * w
    return 1 - 2 * (p * y).sum().item() / ((p * w).sum() + y.sum()).item()


def reference_contrast(pred, keys, labels, tau) -> float:
    """Mean over rows of -log softmax(cos(pred_i, keys) / tau)[label_i]; ``keys`` (B, M, D)."""
    pred = pred.double() / pred.double().norm(dim=-1, keepdim=True)
    keys = keys.double() / keys.double().norm(dim=-1, keepdim=True)
    logits = torch.einsum('bnd,bmd->bnm', pred, keys) / tau
    picked = logits.gather(-1, labels[..., None])[..., 0]
    return (logits.exp().sum(-1).log() - picked).mean().item()


def test_dice_sums_in_float32_under_half_precision():
    """Half-precision logits, float32 sums: the float64 value of the rounded logits."""
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 64, 64) * 3
    target = torch.rand(2, 4, 64, 64) > 0.7
    valid = torch.rand(2, 64, 64) > 0.1
    half = mask_dice_loss(logits.half(), target, valid)
    assert half.dtype == torch.float32
    assert half.item() == pytest.approx(reference_dice(logits.half(), target, valid), rel=1e-6)


def test_dice_weight_adds_a_dice_key_only_when_set():
    torch.manual_seed(0)
    masks, target = torch.randn(2, 3, 4, 4), torch.rand(2, 3, 4, 4) > 0.5
    valid = torch.rand(2, 4, 4) > 0.2
    pred, vocab = torch.randn(2, 3, 8), torch.randn(5, 8)
    labels = torch.tensor([[0, 1, 4], [2, 4, 4]])
    paper = CoSegLoss()(masks, target, valid, pred, labels, vocab)
    assert set(paper) == {'loss_coseg_mask', 'loss_coseg_lang'}
    assert paper['loss_coseg_mask'].item() == pytest.approx(
        reference_bce(masks, target, valid), rel=1e-6)
    assert paper['loss_coseg_lang'].item() == pytest.approx(
        0.08 * reference_contrast(pred, vocab[labels], torch.arange(3).expand(2, 3), 0.08),
        rel=1e-6)
    authors = CoSegLoss(dice_weight=0.18, lang_weight=0.12, contrast='vocabulary')(
        masks, target, valid, pred, labels, vocab)
    assert authors['loss_coseg_dice'].item() == pytest.approx(
        0.18 * reference_dice(masks, target, valid), rel=1e-6)
    assert authors['loss_coseg_mask'].item() == pytest.approx(paper['loss_coseg_mask'].item())
    assert authors['loss_coseg_lang'].item() == pytest.approx(
        0.12 * reference_contrast(pred, vocab.expand(2, -1, -1), labels, 0.08), rel=1e-6)
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


@functools.lru_cache(maxsize=None)
def _real_batch_references(dtype, contrast):
    """Float64 references of the real batch's two terms, its inputs rounded to ``dtype``."""
    logits, target, valid, pred, vocab, labels = _real_batch_inputs()
    if dtype is not None:
        logits, pred = logits.to(dtype), pred.to(dtype)
    if contrast == 'sequence':
        keys, rows = vocab[labels], torch.arange(labels.shape[1]).expand_as(labels)
    else:
        keys, rows = vocab.expand(labels.shape[0], -1, -1), labels
    mask = _real_batch_bce(dtype)
    return {'loss_coseg_mask': mask, 'loss_coseg_lang': reference_contrast(pred, keys, rows, 0.08)}


@functools.lru_cache(maxsize=None)
def _real_batch_bce(dtype):
    logits, target, valid = _real_batch_inputs()[:3]
    return reference_bce(logits if dtype is None else logits.to(dtype), target, valid)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_loss_under_autocast_equals_float32_at_the_real_batch(dtype):
    """CPU autocast, the inputs in the dtype a mixed-precision head/neck gives them.

    Two comparisons, both against float64 references written from the formulas: (1) on the
    same rounded inputs: the loss itself must add no error beyond float32's, so rel 1e-5;
    (2) on the unrounded inputs: rounding each input by at most u (unit roundoff: 2^-11 float16,
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
        same_inputs, exact = _real_batch_references(dtype, contrast), _real_batch_references(
            None, contrast)
        u = UNIT_ROUNDOFF[dtype]
        for key, bound in (('loss_coseg_mask', u * logits.abs().mean().item()),
                           ('loss_coseg_lang', 4 * u / 0.08)):
            assert mixed[key].dtype == torch.float32
            assert mixed[key].item() == pytest.approx(same_inputs[key], rel=1e-5), key
            assert abs(mixed[key].item() - exact[key]) <= bound, key
        assert mixed['loss_coseg_mask'].item() > 0.5  # ~1.39 for these logits, not 0


def test_mask_loss_in_pure_float16_is_finite_and_right():
    logits, target, valid = _real_batch_inputs()[:3]
    half = logits.half()
    got = mask_bce_loss(half, target, valid)
    assert torch.isfinite(got)
    assert got.item() == pytest.approx(_real_batch_bce(torch.float16), rel=1e-5)


def test_bce_of_a_single_term():
    """One slot, one valid pixel: the mean is that one term (no floor on the count above 1)."""
    logits = torch.tensor([[[[math.log(3.0), 9.0]]]])  # p 0.75; the second pixel is ignored
    target = torch.tensor([[[[0, 1]]]], dtype=torch.bool)
    valid = torch.tensor([[[True, False]]])
    assert mask_bce_loss(logits, target, valid).item() == pytest.approx(math.log(4), rel=1e-6)


def test_dice_with_no_target_pixel_and_little_mass_is_one():
    """No target pixel: no overlap, Dice loss 1, however small sum(p) is (here 0.25 < 1)."""
    logits = torch.tensor([[[[-math.log(3.0)]]]])  # p 0.25
    target = torch.zeros(1, 1, 1, 1, dtype=torch.bool)
    valid = torch.ones(1, 1, 1, dtype=torch.bool)
    assert mask_dice_loss(logits, target, valid).item() == pytest.approx(1.0)
