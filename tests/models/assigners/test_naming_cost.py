"""NamingCost: -log p_n(m), read at the classes' ids."""
import math

import torch
from mmengine.structures import InstanceData
from mmseg.registry import TASK_UTILS


def test_minus_log_probability_at_the_class_ids_weighted():
    probs = torch.tensor([[0.1, 0.2, 0.0, 0.7], [0.5, 0.25, 0.25, 0.0]])  # 3 classes + unlabeled
    got = TASK_UTILS.build(dict(type='NamingCost', weight=0.5))(
        InstanceData(label_probs=probs), InstanceData(labels=torch.tensor([2, 0])))
    # columns: class 2, then class 0 (ids, not positions); p = 0 is clamped to 1e-8
    expected = [[-math.log(1e-8), -math.log(0.1)], [-math.log(0.25), -math.log(0.5)]]
    torch.testing.assert_close(got, 0.5 * torch.tensor(expected), rtol=1e-6, atol=0)
