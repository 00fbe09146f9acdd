"""CoSeg's loss: BCE (+ optional Dice) on the N masks + lambda * contrastive loss on the N label
embeddings.

Every term is computed in float32, whatever the inputs' dtype or the caller's autocast: under
mixed precision the head's logits arrive in float16/bfloat16, and a float16 count of the valid
pixels overflows at 65,504 (one 256 x 256 image), which would zero the mask loss under autocast
and make it NaN in pure float16. The contrastive logits (cosines / tau) are also formed in
float32: bfloat16 rounds a cosine by up to 2^-9, i.e. 0.024 in a logit at tau = 0.08.
"""
from typing import Dict

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor, nn

CONTRAST_MODES = ('sequence', 'vocabulary')


def mask_bce_loss(mask_logits: Tensor, target_masks: Tensor, valid: Tensor) -> Tensor:
    """Binary cross-entropy over every slot and every valid pixel (paper's L_mask).

    Args:
        mask_logits: (B, N, H, W) logits.
        target_masks: (B, N, H, W) bool or {0, 1}.
        valid: (B, H, W) bool, False at ignore pixels.

    Returns:
        float32 scalar: mean over the B * N * (valid pixels) terms; 0 when no pixel is valid.
    """
    with torch.autocast(mask_logits.device.type, enabled=False):
        logits = mask_logits.float()
        weight = valid[:, None].float()  # (B, 1, H, W), broadcast over the N slots
        total = F.binary_cross_entropy_with_logits(
            logits, target_masks.float(), weight=weight, reduction='sum')
        return total / (weight.sum() * logits.shape[1]).clamp(min=1)


def mask_dice_loss(mask_logits: Tensor, target_masks: Tensor, valid: Tensor) -> Tensor:
    """One Dice loss over the whole batch: ``1 - 2 sum(y p) / sum(y + p)``, ``p = sigmoid``.

    The authors' released code adds it to the BCE (weight 0.18; docs/recipes.md):
    a single ratio over every pixel of every slot of every image, padded slots (empty masks)
    included, not a mean of per-mask Dice losses. Ignore pixels are left out of both sums, as
    :func:`mask_bce_loss` leaves them out (the authors' code has no ignore pixels in its masks:
    there they count as background of every slot). The sums run in float32 whatever the
    logits' dtype (half-precision sums over B * N * H * W terms lose the small ones).

    Args:
        mask_logits: (B, N, H, W) logits.
        target_masks: (B, N, H, W) bool or {0, 1}.
        valid: (B, H, W) bool, False at ignore pixels.

    Returns:
        Scalar float32 loss in [0, 1]; 0 when no pixel is valid.
    """
    probs = mask_logits.float().sigmoid()
    weight = valid[:, None].float()  # (B, 1, H, W), broadcast over the N slots
    target = target_masks.float() * weight
    inter = (probs * target).sum()
    total = (probs * weight).sum() + target.sum()
    # No valid pixel (total 0): nothing to compare, loss 0 (no host sync to find out).
    return torch.where(total > 0, 1 - 2 * inter / total.clamp(min=1e-30), total)


def sequence_contrastive_loss(slot_embeds: Tensor, target_embeds: Tensor, *,
                              temperature: float) -> Tensor:
    """The paper's L_lang: each predicted token against the targets of its own sequence.

    ``-1/N sum_i log softmax_j(x̂_i . x_j / tau)[i]`` with x̂, x L2-normalised, averaged over
    the batch.

    Args:
        slot_embeds: (B, N, D) predicted embeddings.
        target_embeds: (B, N, D) text embeddings of the target labels (padded with
            "unlabeled").
        temperature: tau.

    Returns:
        float32 scalar.
    """
    with torch.autocast(slot_embeds.device.type, enabled=False):
        pred = F.normalize(slot_embeds.float(), dim=-1)
        target = F.normalize(target_embeds.float(), dim=-1)
        logits = pred @ target.transpose(1, 2) / temperature  # (B, N, N)
        B, N = logits.shape[:2]
        positions = torch.arange(N, device=logits.device).expand(B, N)
        return F.cross_entropy(logits.flatten(0, 1), positions.flatten())


def vocabulary_contrastive_loss(slot_embeds: Tensor, vocab_embeds: Tensor, labels: Tensor, *,
                                temperature: float) -> Tensor:
    """Each predicted token classified against the whole vocabulary (and "unlabeled").

    Args:
        slot_embeds: (B, N, D).
        vocab_embeds: (K, D) text embeddings, "unlabeled" included.
        labels: (B, N) indices into ``vocab_embeds``.
        temperature: tau.

    Returns:
        float32 scalar.
    """
    with torch.autocast(slot_embeds.device.type, enabled=False):
        logits = (F.normalize(slot_embeds.float(), dim=-1)
                  @ F.normalize(vocab_embeds.float(), dim=-1).t())
        return F.cross_entropy((logits / temperature).flatten(0, 1), labels.flatten())


@MODELS.register_module()
class CoSegLoss(nn.Module):
    """``L = mask_weight * L_mask + dice_weight * L_dice + lang_weight * L_lang``.

    The paper (section 3.4) has BCE and the contrastive loss; the authors' released code adds
    one batch-wide Dice term (:func:`mask_dice_loss`, weight 0.18) and contrasts against the
    whole vocabulary (``contrast='vocabulary'``, weight 0.12): see docs/recipes.md.

    Args:
        mask_weight: Weight of the BCE mask loss.
        dice_weight: Weight of :func:`mask_dice_loss` (0, the paper's: no Dice term, and no
            ``_dice`` key; the authors': 0.18).
        lang_weight: lambda, weight of the contrastive loss (paper: 0.08).
        temperature: tau (paper: 0.08).
        contrast: ``'sequence'`` (the paper's: against the targets of the same image) or
            ``'vocabulary'`` (against every class of the training vocabulary).
        loss_name: Prefix of the returned keys (mmseg's convention: starts with ``loss_``).
    """

    def __init__(self, *, mask_weight: float = 1.0, lang_weight: float = 0.08,
                 temperature: float = 0.08, contrast: str = 'sequence',
                 loss_name: str = 'loss_coseg', dice_weight: float = 0.0) -> None:
        super().__init__()
        if contrast not in CONTRAST_MODES:
            raise ValueError(f'loss_decode.contrast must be one of {CONTRAST_MODES}, '
                             f'got {contrast!r}')
        if temperature <= 0:
            raise ValueError(f'loss_decode.temperature must be > 0, got {temperature}')
        if not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must start with 'loss_', got {loss_name!r}")
        if dice_weight < 0:
            raise ValueError(f'loss_decode.dice_weight must be >= 0, got {dice_weight}')
        self.mask_weight = mask_weight
        self.dice_weight = dice_weight
        self.lang_weight = lang_weight
        self.temperature = temperature
        self.contrast = contrast
        self._loss_name = loss_name

    def forward(self, mask_logits: Tensor, target_masks: Tensor, valid: Tensor,
                slot_embeds: Tensor, labels: Tensor, vocab_embeds: Tensor) -> Dict[str, Tensor]:
        """Compute both terms.

        Args:
            mask_logits: (B, N, H, W).
            target_masks: (B, N, H, W) bool.
            valid: (B, H, W) bool.
            slot_embeds: (B, N, D).
            labels: (B, N) target class ids; ``K - 1`` is "unlabeled".
            vocab_embeds: (K, D), "unlabeled" last.

        Returns:
            ``{'<loss_name>_mask': ..., '<loss_name>_lang': ...}``, already weighted, and
            ``'<loss_name>_dice'`` when ``dice_weight > 0``.
        """
        if self.contrast == 'sequence':
            lang = sequence_contrastive_loss(slot_embeds, vocab_embeds[labels],
                                             temperature=self.temperature)
        else:
            lang = vocabulary_contrastive_loss(slot_embeds, vocab_embeds, labels,
                                               temperature=self.temperature)
        return {
            f'{self.loss_name}_mask': self.mask_weight * mask_bce_loss(mask_logits, target_masks,
                                                                       valid),
            f'{self.loss_name}_lang': self.lang_weight * lang,
            **({f'{self.loss_name}_dice': self.dice_weight * mask_dice_loss(
                mask_logits, target_masks, valid)} if self.dice_weight > 0 else {}),
        }

    @property
    def loss_name(self) -> str:
        """Prefix of the loss keys; mmengine sums every key containing 'loss'."""
        return self._loss_name
