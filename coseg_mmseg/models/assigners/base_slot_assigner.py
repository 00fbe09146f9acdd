"""BaseSlotAssigner: what the head asks of an assigner (which slot learns which class)."""
from abc import ABCMeta, abstractmethod
from typing import Optional, Sequence, Tuple

from torch import Tensor


class BaseSlotAssigner(metaclass=ABCMeta):
    """Turns a batch's label maps into N (label, mask) targets per image, one per slot.

    :class:`~coseg_mmseg.models.decode_heads.FiLMCLIPSegHead` builds its assigner from
    ``train_cfg.assigner`` (mmseg's ``TASK_UTILS``) and hands the targets to its loss; the
    assigners only differ in which slot gets which class of the image.

    Attributes:
        needs_predictions: Whether :meth:`assign_targets` reads ``mask_logits`` and
            ``slot_probs``; the head computes them for it only then.
    """

    needs_predictions: bool = False

    @abstractmethod
    def assign_targets(self, seg_maps: Tensor, *, num_slots: int, num_classes: int,
                       ignore_index: int = 255, mask_logits: Optional[Tensor] = None,
                       slot_probs: Optional[Tensor] = None,
                       names: Optional[Sequence[str]] = None) -> Tuple[Tensor, Tensor]:
        """N (label, mask) targets per image.

        Args:
            seg_maps: (B, H, W) integer class ids in ``[0, num_classes)`` or ``ignore_index``.
            num_slots: N.
            num_classes: K, the size of the vocabulary; also the id of "unlabeled".
            ignore_index: Label of pixels that belong to no class.
            mask_logits: (B, N, H, W) predicted mask logits at the label maps' size (read only
                when :attr:`needs_predictions`).
            slot_probs: (B, N, K + 1) label probabilities of each slot, "unlabeled" last (read
                only when :attr:`needs_predictions`).
            names: The label maps' file names, for error messages.

        Returns:
            ``labels`` (B, N) long (K, "unlabeled", for slots without a class) and ``masks``
            (B, N, H, W) bool (empty for those slots).

        Raises:
            ValueError: A label map holds an id outside the vocabulary.
        """
