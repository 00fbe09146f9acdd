from .coexistence_targets import coexistence_targets
from .label_ids import check_label_ids
from .set_matching import hungarian_targets, match_slots, pairwise_mask_costs
from .transformer_layers import MultiheadAttention, ResidualAttentionBlock, Transformer

__all__ = ['coexistence_targets', 'check_label_ids', 'hungarian_targets', 'match_slots',
           'pairwise_mask_costs', 'MultiheadAttention', 'ResidualAttentionBlock', 'Transformer']
