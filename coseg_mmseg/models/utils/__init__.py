from .label_ids import check_label_ids
from .transformer_layers import MultiheadAttention, ResidualAttentionBlock, Transformer

__all__ = ['check_label_ids', 'MultiheadAttention', 'ResidualAttentionBlock', 'Transformer']
