"""The paper's targets: the classes of each image, largest first, on hand-made label maps."""
import pytest
import torch
from mmseg.registry import TASK_UTILS

from coseg_mmseg.models import AreaRankedAssigner

# areas: class 1 -> 3 px, class 2 -> 2 px, class 3 -> 2 px, class 0 -> 1 px, one ignore pixel
SEG = torch.tensor([[[1, 1, 1], [2, 2, 255], [0, 3, 3]]])


def targets(seg, **kwargs):
    return AreaRankedAssigner().assign_targets(seg, **kwargs)


def test_built_from_its_config():
    assert isinstance(TASK_UTILS.build(dict(type='AreaRankedAssigner')), AreaRankedAssigner)
    assert not AreaRankedAssigner.needs_predictions


def test_sorted_by_area_ties_by_id_and_padded():
    labels, masks = targets(SEG, num_slots=6, num_classes=4)
    assert labels.tolist() == [[1, 2, 3, 0, 4, 4]]
    assert masks.shape == (1, 6, 3, 3) and masks.dtype == torch.bool
    assert masks[0, 0].tolist() == [[True] * 3, [False] * 3, [False] * 3]
    assert masks[0, 3].sum() == 1 and masks[0, 3, 2, 0]
    assert not masks[0, 4:].any()  # padding: empty masks with "unlabeled"


def test_sparse_ids_with_ignore_pixels_per_image():
    """Classes 12, 3 and 7 of a 15-class vocabulary (not the first columns), ignore pixels
    that outnumber every class (they rank nowhere), and a second image of other classes:
    each image ranked by its own areas. Image 0: 7 -> 3 px, 12 -> 2 px, 3 -> 2 px (tie:
    3 before 12), ignore 5 px; image 1: 9 -> 4 px, 0 -> 2 px."""
    seg = torch.tensor([[[12, 255, 7, 255], [7, 255, 3, 3], [255, 7, 12, 255]],
                        [[9, 9, 0, 255], [9, 9, 0, 255], [255, 255, 255, 255]]])
    labels, masks = targets(seg, num_slots=4, num_classes=15)
    assert labels.tolist() == [[7, 3, 12, 15], [9, 0, 15, 15]]
    assert masks[0, 0].tolist() == [[False, False, True, False], [True, False, False, False],
                                    [False, True, False, False]]
    assert masks[0, 2].tolist() == [[True, False, False, False], [False] * 4,
                                    [False, False, True, False]]
    assert masks[1, 1].tolist() == [[False, False, True, False], [False, False, True, False],
                                    [False] * 4]
    assert not masks[0, 3].any() and not masks[1, 2:].any()
    assert masks.sum().item() == 7 + 6  # no ignore pixel in any mask


def test_truncated_to_the_largest():
    labels, masks = targets(SEG, num_slots=2, num_classes=4)
    assert labels.tolist() == [[1, 2]]
    assert masks.sum().item() == 5


def test_all_ignore_gives_only_padding():
    labels, masks = targets(torch.full((1, 2, 2), 255), num_slots=3, num_classes=4)
    assert labels.tolist() == [[4, 4, 4]] and not masks.any()


def test_ignore_index_equal_to_pad_label_never_matches():
    seg = torch.tensor([[[0, 2]]])  # 2 is both "ignore" and the pad label here
    labels, masks = targets(seg, num_slots=2, num_classes=2, ignore_index=2)
    assert labels.tolist() == [[0, 2]]
    assert not masks[0, 1].any()


def test_ids_outside_the_vocabulary_are_named():
    with pytest.raises(ValueError, match=r'class ids \[7\] outside the vocabulary of 4'):
        targets(torch.tensor([[[0, 7]]]), num_slots=3, num_classes=4)
    with pytest.raises(ValueError, match=r'^b\.png holds class ids \[7\]'):
        targets(torch.tensor([[[0, 1]], [[0, 7]]]), num_slots=3, num_classes=4,
                names=['a.png', 'b.png'])


def test_labels_are_long_whatever_the_label_maps_dtype():
    labels, _ = targets(SEG.to(torch.int32), num_slots=5, num_classes=4)
    assert labels.dtype == torch.long and labels.tolist() == [[1, 2, 3, 0, 4]]
