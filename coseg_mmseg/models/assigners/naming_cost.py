"""NamingCost: -log of the probability that a slot names a class."""
from typing import Union

from mmengine.structures import InstanceData
from mmseg.models.assigners.match_cost import BaseMatchCost
from mmseg.registry import TASK_UTILS
from torch import Tensor


@TASK_UTILS.register_module()
class NamingCost(BaseMatchCost):
    """``-log p_n(m)``: the cost of giving slot n the class m, from the slot's label
    probabilities (:meth:`FiLMCLIPSegHead.name_slots`: a softmax of cosine similarities to the
    text embeddings, or the segmentor's fixed labels).

    mmseg's ``ClassificationCost`` reads logits and costs ``-softmax(logits)[m]`` (a
    probability, not its log); the slots' probabilities are the head's, so this cost reads
    them as they are. Probabilities are clamped at 1e-8 so that a zero costs 18.4, not inf.

    Args:
        weight: Cost weight.
    """

    def __init__(self, weight: Union[float, int] = 1.0) -> None:
        super().__init__(weight=weight)

    def __call__(self, pred_instances: InstanceData, gt_instances: InstanceData,
                 **kwargs) -> Tensor:
        """(N, M) costs.

        Args:
            pred_instances: ``label_probs`` (N, K + 1) label probabilities of each slot.
            gt_instances: ``labels`` (M,) long class ids in ``[0, K)``.

        Returns:
            (N, M) float32: ``weight`` x ``-log p_n(labels[m])``.
        """
        cost = -pred_instances.label_probs.float().clamp(min=1e-8).log()  # (N, K + 1)
        return cost[:, gt_instances.labels] * self.weight
