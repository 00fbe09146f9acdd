"""Let mmengine's checkpoints load under torch >= 2.6 without turning safety off.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10.7 calls
``torch.load`` without the argument, and its checkpoints hold a few non-tensor objects (the
message hub's ``HistoryBuffer``, numpy scalars and arrays in ``meta``), so ``tools/test.py``
and ``--resume`` fail with "Weights only load failed". We allow exactly those types instead of
unpickling arbitrary objects: a checkpoint is an input, and unpickling can run code.
"""
import builtins

import numpy as np
import torch


def allow_mmengine_checkpoint_types() -> None:
    """Add the types mmengine checkpoints hold to torch's weights-only allow-list."""
    from mmengine.logging.history_buffer import HistoryBuffer
    dtype_classes = [type(np.dtype(t)) for t in (
        np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
        np.uint16, np.uint32, np.uint64, np.bool_)]
    torch.serialization.add_safe_globals([
        HistoryBuffer, np.ndarray, np.dtype, np._core.multiarray.scalar,
        np._core.multiarray._reconstruct, builtins.getattr, *dtype_classes])
