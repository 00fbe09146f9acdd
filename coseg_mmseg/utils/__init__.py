from .atomic_local_backend import AtomicLocalBackend, write_atomically
from .checkpoint_check import check_checkpoint_file, explain_load_error
from .cli import UserError, add_debug_argument, run_tool
from .cpu_heap import retain_freed_memory
from .data_check import check_data_roots, explain_data_error
from .dist import finish_distributed, prepare_distributed
from .evaluation import as_test_config, load_checkpoint_strictly, run_test
from .tool_config import load_config, load_tool_config
from .torch_load import allow_mmengine_checkpoint_types

__all__ = ['AtomicLocalBackend', 'UserError', 'add_debug_argument',
           'allow_mmengine_checkpoint_types', 'as_test_config', 'load_checkpoint_strictly',
           'run_test', 'check_checkpoint_file', 'check_data_roots',
           'explain_data_error', 'explain_load_error', 'finish_distributed', 'load_config',
           'load_tool_config', 'prepare_distributed', 'retain_freed_memory', 'run_tool',
           'write_atomically']
