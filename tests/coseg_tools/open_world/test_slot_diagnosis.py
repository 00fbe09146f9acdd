import numpy as np
import pytest

from coseg_tools.open_world import world
from coseg_tools.open_world.slot_diagnosis import score_regions, summarise

STUFF, THING = world.CLASSES[0], world.CLASSES[20]  # 'red plain ground', a thing


def scene():
    """4 x 4 ids: the stuff class on the left half, the thing top right, unlabelled below it."""
    label = np.full((4, 4), world.IGNORE_INDEX, np.uint8)
    label[:, :2] = 0
    label[:2, 2:] = 20
    return label


def test_each_region_is_scored_by_the_slot_overlapping_it_best():
    label = scene()
    masks = np.zeros((3, 4, 4), bool)
    masks[0, :, :1] = True    # half of the stuff: IoU 4 / 8
    masks[1, :, :3] = True    # all of the stuff and 4 more: IoU 8 / 12; half of the thing: 2 / 8
    masks[2, :2, 3:] = True   # half of the thing: IoU 2 / 4
    records = score_regions(label, masks, [STUFF, 'x', THING], unseen=[THING])
    by_name = {r['name']: r for r in records}
    # The stuff: best overlap is slot 1 (8/12), named 'x': covered but misnamed, although
    # slot 0 carries its name.
    assert by_name[STUFF] == dict(name=STUFF, group='seen stuff', mask_iou=pytest.approx(8 / 12),
                                  best_named=False, any_named=True)
    # The thing: slot 2 (2/4) beats slot 1 (2/8) and names it.
    assert by_name[THING] == dict(name=THING, group='unseen thing', mask_iou=pytest.approx(0.5),
                                  best_named=True, any_named=True)


def test_summary_means_per_group_in_percent():
    records = [dict(group='seen stuff', mask_iou=0.5, best_named=True, any_named=True),
               dict(group='seen stuff', mask_iou=0.0, best_named=False, any_named=True),
               dict(group='unseen thing', mask_iou=0.25, best_named=False, any_named=False)]
    assert summarise(records) == {
        'seen stuff': dict(regions=2, mask_iou=25.0, best_named=50.0, any_named=100.0),
        'unseen thing': dict(regions=1, mask_iou=25.0, best_named=0.0, any_named=0.0)}
