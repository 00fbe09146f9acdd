"""What the model, the datasets and the APIs share: the user error, the removed-options check,
the atomic checkpoint backend and the checkpoint loader's allow-list. The CLI, benchmark and
distributed helpers of the tools live in :mod:`coseg_tools`, off the model's import path."""
from .atomic_local_backend import AtomicLocalBackend, write_atomically
from .config_check import check_removed_options
from .errors import UserError
from .torch_load import allow_mmengine_checkpoint_types

__all__ = ['AtomicLocalBackend', 'UserError', 'allow_mmengine_checkpoint_types',
           'check_removed_options', 'write_atomically']
