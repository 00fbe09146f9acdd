from .coexistence_targets import coexistence_targets
from .transformer_layers import MultiheadAttention, ResidualAttentionBlock, Transformer

__all__ = ['coexistence_targets', 'MultiheadAttention', 'ResidualAttentionBlock', 'Transformer']
