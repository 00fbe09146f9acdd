from .coexistence_targets import coexistence_targets
from .label_ids import check_label_ids
from .transformer_layers import MultiheadAttention, ResidualAttentionBlock, Transformer

__all__ = ['coexistence_targets', 'check_label_ids', 'MultiheadAttention', 'ResidualAttentionBlock', 'Transformer']
