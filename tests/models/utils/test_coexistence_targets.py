import pytest
import torch

from coseg_mmseg.models.utils import coexistence_targets

# areas: class 1 -> 3 px, class 2 -> 2 px, class 3 -> 2 px, class 0 -> 1 px, one ignore pixel
SEG = torch.tensor([[[1, 1, 1], [2, 2, 255], [0, 3, 3]]])


def test_sorted_by_area_ties_by_id_and_padded():
    labels, masks = coexistence_targets(SEG, num_slots=6, num_classes=4)
    assert labels.tolist() == [[1, 2, 3, 0, 4, 4]]
    assert masks.shape == (1, 6, 3, 3) and masks.dtype == torch.bool
    assert masks[0, 0].tolist() == [[True] * 3, [False] * 3, [False] * 3]
    assert masks[0, 3].sum() == 1 and masks[0, 3, 2, 0]
    assert not masks[0, 4:].any()  # padding: empty masks with "unlabeled"


def test_truncated_to_the_largest():
    labels, masks = coexistence_targets(SEG, num_slots=2, num_classes=4)
    assert labels.tolist() == [[1, 2]]
    assert masks.sum().item() == 5


def test_all_ignore_gives_only_padding():
    labels, masks = coexistence_targets(torch.full((1, 2, 2), 255), num_slots=3, num_classes=4)
    assert labels.tolist() == [[4, 4, 4]] and not masks.any()


def test_ignore_index_equal_to_pad_label_never_matches():
    seg = torch.tensor([[[0, 2]]])  # 2 is both "ignore" and the pad label here
    labels, masks = coexistence_targets(seg, num_slots=2, num_classes=2, ignore_index=2)
    assert labels.tolist() == [[0, 2]]
    assert not masks[0, 1].any()


def test_ids_outside_the_vocabulary_are_named():
    with pytest.raises(ValueError, match=r'class ids \[7\] outside the vocabulary of 4'):
        coexistence_targets(torch.tensor([[[0, 7]]]), num_slots=3, num_classes=4)
    with pytest.raises(ValueError, match=r'^b\.png holds class ids \[7\]'):
        coexistence_targets(torch.tensor([[[0, 1]], [[0, 7]]]), num_slots=3, num_classes=4,
                            names=['a.png', 'b.png'])


def test_labels_are_long_whatever_the_label_maps_dtype():
    labels, _ = coexistence_targets(SEG.to(torch.int32), num_slots=5, num_classes=4)
    assert labels.dtype == torch.long and labels.tolist() == [[1, 2, 3, 0, 4]]
