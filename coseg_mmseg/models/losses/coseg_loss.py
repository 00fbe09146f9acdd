"""CoSeg's loss: BCE on the N masks + lambda * contrastive loss on the N label embeddings.

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


def sequence_contrastive_loss(pred_embeds: Tensor, target_embeds: Tensor, *,
                              temperature: float) -> Tensor:
    """The paper's L_lang: each predicted token against the targets of its own sequence.

    ``-1/N sum_i log softmax_j(x̂_i . x_j / tau)[i]`` with x̂, x L2-normalised, averaged over
    the batch.

    Args:
        pred_embeds: (B, N, D) predicted embeddings.
        target_embeds: (B, N, D) text embeddings of the target labels (padded with
            "unlabeled").
        temperature: tau.

    Returns:
        float32 scalar.
    """
    with torch.autocast(pred_embeds.device.type, enabled=False):
        pred = F.normalize(pred_embeds.float(), dim=-1)
        target = F.normalize(target_embeds.float(), dim=-1)
        logits = pred @ target.transpose(1, 2) / temperature  # (B, N, N)
        B, N = logits.shape[:2]
        positions = torch.arange(N, device=logits.device).expand(B, N)
        return F.cross_entropy(logits.flatten(0, 1), positions.flatten())


def vocabulary_contrastive_loss(pred_embeds: Tensor, vocab_embeds: Tensor, labels: Tensor, *,
                                temperature: float) -> Tensor:
    """Each predicted token classified against the whole vocabulary (and "unlabeled").

    Args:
        pred_embeds: (B, N, D).
        vocab_embeds: (K, D) text embeddings, "unlabeled" included.
        labels: (B, N) indices into ``vocab_embeds``.
        temperature: tau.

    Returns:
        float32 scalar.
    """
    with torch.autocast(pred_embeds.device.type, enabled=False):
        logits = (F.normalize(pred_embeds.float(), dim=-1)
                  @ F.normalize(vocab_embeds.float(), dim=-1).t())
        return F.cross_entropy((logits / temperature).flatten(0, 1), labels.flatten())


@MODELS.register_module()
class CoSegLoss(nn.Module):
    """``L = mask_weight * L_mask + lang_weight * L_lang`` (paper, section 3.4).

    Args:
        mask_weight: Weight of the BCE mask loss.
        lang_weight: lambda, weight of the contrastive loss (paper: 0.08).
        temperature: tau (paper: 0.08).
        contrast: ``'sequence'`` (the paper's: against the targets of the same image) or
            ``'vocabulary'`` (against every class of the training vocabulary).
        loss_name: Prefix of the returned keys (mmseg's convention: starts with ``loss_``).
    """

    def __init__(self, *, mask_weight: float = 1.0, lang_weight: float = 0.08,
                 temperature: float = 0.08, contrast: str = 'sequence',
                 loss_name: str = 'loss_coseg') -> None:
        super().__init__()
        if contrast not in CONTRAST_MODES:
            raise ValueError(f'loss_decode.contrast must be one of {CONTRAST_MODES}, '
                             f'got {contrast!r}')
        if temperature <= 0:
            raise ValueError(f'loss_decode.temperature must be > 0, got {temperature}')
        if not loss_name.startswith('loss_'):
            raise ValueError(f"loss_name must start with 'loss_', got {loss_name!r}")
        self.mask_weight = mask_weight
        self.lang_weight = lang_weight
        self.temperature = temperature
        self.contrast = contrast
        self._loss_name = loss_name

    def forward(self, mask_logits: Tensor, target_masks: Tensor, valid: Tensor,
                pred_embeds: Tensor, labels: Tensor, vocab_embeds: Tensor) -> Dict[str, Tensor]:
        """Compute both terms.

        Args:
            mask_logits: (B, N, H, W).
            target_masks: (B, N, H, W) bool.
            valid: (B, H, W) bool.
            pred_embeds: (B, N, D).
            labels: (B, N) target class ids; ``K - 1`` is "unlabeled".
            vocab_embeds: (K, D), "unlabeled" last.

        Returns:
            ``{'<loss_name>_mask': ..., '<loss_name>_lang': ...}``, already weighted.
        """
        if self.contrast == 'sequence':
            lang = sequence_contrastive_loss(pred_embeds, vocab_embeds[labels],
                                             temperature=self.temperature)
        else:
            lang = vocabulary_contrastive_loss(pred_embeds, vocab_embeds, labels,
                                               temperature=self.temperature)
        return {
            f'{self.loss_name}_mask': self.mask_weight * mask_bce_loss(mask_logits, target_masks,
                                                                       valid),
            f'{self.loss_name}_lang': self.lang_weight * lang,
        }

    @property
    def loss_name(self) -> str:
        """Prefix of the loss keys; mmengine sums every key containing 'loss'."""
        return self._loss_name
