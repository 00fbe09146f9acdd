from .data_check import check_data_roots
from .torch_load import allow_mmengine_checkpoint_types

__all__ = ['allow_mmengine_checkpoint_types', 'check_data_roots']
