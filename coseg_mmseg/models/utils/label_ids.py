"""The one check of ground-truth label ids against the vocabulary, for training and testing."""
from typing import Optional, Sequence

from torch import Tensor


def check_label_ids(label_maps: Tensor, *, num_classes: int, ignore_index: int,
                    names: Optional[Sequence[str]] = None) -> None:
    """Refuse label maps holding ids outside ``[0, num_classes)`` other than ``ignore_index``.

    Such ids would be silently dropped by mmseg's ``IoUMetric`` at test time and would index
    past the vocabulary's embeddings in training. One host sync for the whole batch.

    Args:
        label_maps: (B, H, W) or (B, 1, H, W) integer class ids.
        num_classes: K, the size of the vocabulary.
        ignore_index: The id of pixels without class.
        names: The label maps' file names, for the message.

    Raises:
        ValueError: Naming the file, the ids and the vocabulary size.
    """
    valid = label_maps != ignore_index
    outside = valid & ((label_maps < 0) | (label_maps >= num_classes))
    if not outside.any():
        return
    b = int(outside.flatten(1).any(1).nonzero()[0])
    bad = label_maps[b][outside[b]].unique().tolist()[:10]
    where = names[b] if names else f'label map {b} of the batch'
    raise ValueError(f'{where} holds class ids {bad} outside the vocabulary of {num_classes} '
                     f'classes (ignore index {ignore_index}): give the model the dataset\'s '
                     f'vocabulary, or map these ids to {ignore_index}')
