"""Let mmengine's checkpoints load under torch >= 2.6 without turning safety off.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10.7 calls
``torch.load`` without the argument, and its checkpoints hold a few non-tensor objects (the
message hub's ``HistoryBuffer``, numpy scalars and arrays in ``meta``), so ``tools/test.py``
and ``--resume`` fail with "Weights only load failed". We allow exactly those types instead of
unpickling arbitrary objects: a checkpoint is an input, and unpickling can run code.

One callable needs care. A ``HistoryBuffer`` pickles its statistics functions
(``HistoryBuffer.min``, ``.max``, ``.current``, ``.mean``; mmengine's
``history_buffer.py``) and pickle protocol 2 writes each as ``getattr(HistoryBuffer, 'min')``.
Allowing ``builtins.getattr`` itself would let a crafted file walk from any object on the
unpickler's stack to a function's ``__globals__`` (a plain dict, which SETITEM may write) and
overwrite a module global of the loading process. So the name ``builtins.getattr`` is bound to
:func:`history_buffer_statistic` instead, which returns those four functions and nothing else.
"""
import pickle
from typing import Callable

import numpy as np
import torch

# The statistics functions HistoryBuffer registers for itself (mmengine 0.10.7,
# logging/history_buffer.py, ``HistoryBuffer.__init__``).
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_statistic(owner: object, name: str) -> Callable:
    """``getattr`` as a checkpoint may call it: only ``HistoryBuffer.<statistic>``.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    if owner is not HistoryBuffer or not isinstance(name, str) or \
            name not in HISTORY_BUFFER_STATISTICS:
        raise pickle.UnpicklingError(
            f'checkpoint refused: it calls getattr({_describe(owner)}, {name!r}); an mmengine '
            f'checkpoint only calls getattr(HistoryBuffer, one of '
            f'{HISTORY_BUFFER_STATISTICS}). Do not load this file unless you trust it')
    return getattr(HistoryBuffer, name)


def _describe(obj: object) -> str:
    """A short, safe description of an object for an error message."""
    name = getattr(obj, '__qualname__', None)
    return name if isinstance(name, str) else f'<{type(obj).__name__} object>'


def mmengine_checkpoint_globals() -> list:
    """The allow-list entries: the types mmengine checkpoints hold, and the guarded getattr."""
    from mmengine.logging.history_buffer import HistoryBuffer
    # A dtype's BUILD step needs its class (numpy 2: numpy.dtypes.Float64DType, ...).
    dtype_classes = [type(np.dtype(t)) for t in (
        np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
        np.uint16, np.uint32, np.uint64, np.bool_)]
    return [HistoryBuffer, np.ndarray, np.dtype, np._core.multiarray.scalar,
            np._core.multiarray._reconstruct, *dtype_classes,
            (history_buffer_statistic, 'builtins.getattr')]


def allow_mmengine_checkpoint_types() -> None:
    """Add the types mmengine checkpoints hold to torch's weights-only allow-list."""
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())
