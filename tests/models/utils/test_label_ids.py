"""The one check of ground-truth label ids against the vocabulary."""
import pytest
import torch

from coseg_mmseg.models.utils.label_ids import check_label_ids


def test_ids_inside_the_vocabulary_and_the_ignore_index_pass():
    maps = torch.tensor([[[0, 2], [255, 1]], [[2, 2], [0, 255]]])
    assert check_label_ids(maps, num_classes=3, ignore_index=255) is None
    # (B, 1, H, W) as mmseg stacks them, and another ignore index
    assert check_label_ids(torch.tensor([[[[0, 7]]]]), num_classes=1, ignore_index=7) is None


@pytest.mark.parametrize('bad', [3, -1])
def test_the_first_id_past_either_end_is_refused(bad):
    """num_classes itself and -1 are outside; the message names the ids, the size, the
    ignore index and the fix."""
    maps = torch.tensor([[[0, 2]], [[bad, 1]]])
    with pytest.raises(ValueError) as error:
        check_label_ids(maps, num_classes=3, ignore_index=255)
    assert str(error.value) == (
        f"label map 1 of the batch holds class ids [{bad}] outside the vocabulary of 3 classes "
        f"(ignore index 255): give the model the dataset's vocabulary, or map these ids to 255")


def test_the_file_of_the_first_bad_map_is_named_with_its_ids_sorted():
    maps = torch.tensor([[[0, 1]], [[9, 4]], [[5, 0]]])
    with pytest.raises(ValueError, match=r'^b\.png holds class ids \[4, 9\] outside'):
        check_label_ids(maps, num_classes=4, ignore_index=255, names=['a.png', 'b.png', 'c.png'])


def test_at_most_ten_ids_are_listed():
    maps = torch.arange(20, 40)[None, None]
    with pytest.raises(ValueError, match=r'\[20, 21, 22, 23, 24, 25, 26, 27, 28, 29\] outside'):
        check_label_ids(maps, num_classes=20, ignore_index=255)
