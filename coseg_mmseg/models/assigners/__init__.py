"""Which slot learns which class: assigners and match costs, registered in mmseg's
``TASK_UTILS`` on import (``decode_head.train_cfg.assigner``)."""
from .area_ranked_assigner import AreaRankedAssigner
from .base_slot_assigner import BaseSlotAssigner
from .mask_bce_cost import MaskBCECost
from .naming_cost import NamingCost
from .set_matching_assigner import SetMatchingAssigner

__all__ = ['AreaRankedAssigner', 'BaseSlotAssigner', 'MaskBCECost', 'NamingCost',
           'SetMatchingAssigner']
