from .atomic_local_backend import AtomicLocalBackend, write_atomically
from .cpu_heap import retain_freed_memory
from .data_check import check_data_roots
from .dist import finish_distributed, prepare_distributed
from .tool_config import load_tool_config
from .torch_load import allow_mmengine_checkpoint_types

__all__ = ['AtomicLocalBackend', 'allow_mmengine_checkpoint_types', 'check_data_roots',
           'finish_distributed', 'load_tool_config', 'prepare_distributed',
           'retain_freed_memory', 'write_atomically']
