"""MaskBCECost: the mean BCE of every slot's mask logits against every class's mask."""
import math

import torch
from mmengine.structures import InstanceData
from mmseg.registry import TASK_UTILS


def cost(logits, gt, **kwargs):
    return TASK_UTILS.build(dict(type='MaskBCECost', **kwargs))(
        InstanceData(masks=logits), InstanceData(masks=gt))


def test_hand_computed_per_slot_and_class():
    """Slot 0 p = (0.5, 0.75), slot 1 p = (0.25, 0.5); classes (1, 0) and (0, 1)."""
    logits = torch.tensor([[0.0, math.log(3.0)], [-math.log(3.0), 0.0]])
    gt = torch.tensor([[True, False], [False, True]])
    got = cost(logits, gt, weight=2.0)
    expected = [[-math.log(0.5) - math.log(0.25), -math.log(0.5) - math.log(0.75)],
                [-math.log(0.25) - math.log(0.5), -math.log(0.75) - math.log(0.5)]]
    assert got.shape == (2, 2) and got.dtype == torch.float32
    # weight 2 x the mean over 2 pixels
    torch.testing.assert_close(got, torch.tensor(expected), rtol=1e-6, atol=0)


def test_same_quantity_as_mmseg_cross_entropy_cost_other_rounding():
    """mmseg's CrossEntropyLossCost is the same mean BCE (to float32 rounding), which is why
    it could stand in; its last bits differ, which is why set matching keeps this one."""
    torch.manual_seed(0)
    logits, gt = torch.randn(8, 500) * 4, torch.rand(5, 500) < 0.3
    ours = cost(logits, gt)
    mmseg = TASK_UTILS.build(dict(type='CrossEntropyLossCost', use_sigmoid=True))(
        InstanceData(masks=logits), InstanceData(masks=gt))
    torch.testing.assert_close(ours, mmseg, rtol=1e-5, atol=1e-6)
    assert not torch.equal(ours, mmseg)
