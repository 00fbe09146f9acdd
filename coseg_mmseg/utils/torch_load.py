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

numpy needs care too. A pickled dtype is ``numpy.dtype('f8', False, True)`` followed by a
BUILD whose state may declare fields at any offset (a structured dtype over an 8-byte item):
reading such a field reads memory outside the array (a heap pointer leaked; a large offset
segfaulted). So the numpy names a checkpoint may use are bound to checking stand-ins
(:data:`NUMPY_NAMES`), and only these shapes of numpy object load:

- a scalar (``numpy.float64(0.5)``) of one of :data:`PLAIN_DTYPES`;
- an array of one of :data:`PLAIN_DTYPES`, its data as raw bytes (:class:`CheckedArray`, an
  ``ndarray`` subclass that pickles as a plain ``ndarray`` again).

A dtype is only ever one of :data:`PLAIN_DTYPES` in the machine's byte order: fields, sub-arrays,
object, void and string dtypes are refused, as is any other numpy global.
"""
import pickle
import sys
from typing import Any, Callable, Tuple

import numpy as np
import torch

# The statistics functions HistoryBuffer registers for itself (mmengine 0.10.7,
# logging/history_buffer.py, ``HistoryBuffer.__init__``).
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')
# The dtypes (``numpy.dtype(...).str`` without the byte order) a checkpoint's numpy values have.
PLAIN_DTYPES = ('b1', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'f2', 'f4', 'f8')
# Byte-order characters of a plain dtype's pickled state on this machine.
_NATIVE_ORDERS = ('|', '=', '<' if sys.byteorder == 'little' else '>')
MAX_ARRAY_DIMS = 32  # numpy's own limit is 64; mmengine's arrays are 1-D or 2-D


def _refuse(what: str) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(
        f'checkpoint refused: {what}; an mmengine checkpoint holds only numpy scalars and '
        f'arrays of plain numbers ({", ".join(PLAIN_DTYPES)}). Do not load this file unless '
        f'you trust it')


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


class PlainDType:
    """What ``numpy.dtype(spec, align, copy)`` gives while a checkpoint is unpickled.

    The pickle's BUILD step hands it the dtype's state (:meth:`__setstate__`), which is
    checked to be that of a plain dtype: no fields, no sub-array, the machine's byte order.
    :class:`CheckedArray` and :func:`checked_scalar` take the real dtype from it.
    """

    def __init__(self, spec: Any) -> None:
        if not isinstance(spec, str) or spec not in PLAIN_DTYPES:
            raise _refuse(f'a numpy dtype {_short(spec)}')
        self.dtype = np.dtype(spec)

    def __repr__(self) -> str:
        return f'dtype({self.dtype.str[1:]!r})'

    def __setstate__(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 8 and state[0] == 3
                and state[1] in _NATIVE_ORDERS and state[2:] == (None, None, None, -1, -1, 0)):
            raise _refuse(f'a numpy dtype {self.dtype.str[1:]!r} with the state '
                          f'{_short(state)} (fields, a sub-array or a foreign byte order)')


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + '...'


def checked_dtype(spec: Any, align: Any = False, copy: Any = True) -> PlainDType:
    """``numpy.dtype`` as a checkpoint may call it: a plain numeric dtype only."""
    if align not in (False, 0):
        raise _refuse(f'a numpy dtype {_short(spec)} with align={_short(align)}')
    return PlainDType(spec)


def _real_dtype(dtype: Any) -> np.dtype:
    if not isinstance(dtype, PlainDType):
        raise _refuse(f'a numpy value whose dtype is {_describe(dtype)}')
    return dtype.dtype


def checked_scalar(dtype: Any, data: Any) -> np.generic:
    """``numpy._core.multiarray.scalar`` as a checkpoint may call it: a plain number."""
    real = _real_dtype(dtype)
    if not isinstance(data, bytes) or len(data) != real.itemsize:
        raise _refuse(f'a numpy {real} scalar of {_short(data)} (not {real.itemsize} bytes)')
    return np.frombuffer(data, dtype=real)[0].copy()


class CheckedArray(np.ndarray):
    """An ``ndarray`` unpickled from a checkpoint: its state is checked before numpy reads it.

    Behaves as an ``ndarray`` and pickles as a plain one. It cannot be built directly
    (``CheckedArray(...)`` is refused): the unpickler makes an empty one with
    :func:`checked_reconstruct` and fills it with :meth:`__setstate__`.
    """

    def __new__(cls, *args, **kwargs):
        raise _refuse('numpy.ndarray called directly')

    def __setstate__(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1):
            raise _refuse(f'a numpy array with the state {_short(state)}')
        _, shape, dtype, fortran, data = state
        real = _real_dtype(dtype)
        if not (isinstance(shape, tuple) and len(shape) <= MAX_ARRAY_DIMS
                and all(type(n) is int and n >= 0 for n in shape)):
            raise _refuse(f'a numpy array of shape {_short(shape)}')
        if fortran not in (True, False) or not isinstance(data, bytes) or \
                len(data) != int(np.prod(shape, dtype=np.float64)) * real.itemsize:
            raise _refuse(f'a numpy {real} array of shape {shape} whose data is not '
                          f'{real.itemsize} bytes per element')
        super().__setstate__((1, shape, real, fortran, data))

    def __reduce__(self) -> Tuple:
        return np.asarray(self).__reduce__()

    def __reduce_ex__(self, protocol: int) -> Tuple:
        return np.asarray(self).__reduce_ex__(protocol)


def checked_reconstruct(subtype: Any, shape: Any, typecode: Any) -> CheckedArray:
    """``numpy._core.multiarray._reconstruct`` as a pickled ``ndarray`` calls it."""
    if subtype is not CheckedArray or shape != (0, ) or typecode != b'b':
        raise _refuse(f'numpy _reconstruct({_describe(subtype)}, {_short(shape)}, '
                      f'{_short(typecode)})')
    return np.ndarray.__new__(CheckedArray, (0, ), 'b')


def empty_bytes(*args: Any) -> bytes:
    """``bytes()`` as pickle protocol 2 writes ``b''`` (the data of an empty array); any
    argument (``bytes(10**12)`` would allocate a terabyte) is refused."""
    if args:
        raise _refuse(f'bytes{_short(args)}')
    return b''


# The numpy names an mmengine checkpoint uses (numpy 2 writes numpy._core, numpy 1 numpy.core),
# each bound to its checking stand-in.
NUMPY_NAMES = {
    'numpy.dtype': checked_dtype,
    'numpy.ndarray': CheckedArray,
    'numpy._core.multiarray.scalar': checked_scalar,
    'numpy.core.multiarray.scalar': checked_scalar,
    'numpy._core.multiarray._reconstruct': checked_reconstruct,
    'numpy.core.multiarray._reconstruct': checked_reconstruct,
}


def mmengine_checkpoint_globals() -> list:
    """The allow-list entries: HistoryBuffer, the checked numpy names, the guarded getattr."""
    from mmengine.logging.history_buffer import HistoryBuffer
    return [HistoryBuffer, PlainDType,
            *((stand_in, name) for name, stand_in in NUMPY_NAMES.items()),
            (history_buffer_statistic, 'builtins.getattr'), (empty_bytes, 'builtins.bytes')]


def allow_mmengine_checkpoint_types() -> None:
    """Put the types mmengine checkpoints hold on torch's weights-only allow-list, and drop the
    raw numpy entries an earlier version of this function added (they admit crafted dtypes)."""
    from torch.serialization import _weights_only_unpickler as unpickler
    raw = {np.ndarray, np.dtype, np._core.multiarray.scalar, np._core.multiarray._reconstruct}
    raw |= {type(np.dtype(code)) for code in PLAIN_DTYPES}
    unpickler._remove_safe_globals([g for g in torch.serialization.get_safe_globals()
                                    if g in raw])
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())


class _PlainUnpickler(pickle.Unpickler):
    """A pickle reader that builds containers, strings, numbers and :data:`NUMPY_NAMES`'
    checked numpy values, and refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        stand_in = NUMPY_NAMES.get(f'{module}.{name}')
        if stand_in is None:
            raise pickle.UnpicklingError(
                f'refused: the pickle names the global {module}.{name}; only lists, dicts, '
                f'strings, numbers and numpy arrays of plain numbers are read')
        return stand_in


def load_plain_pickle(file) -> Any:
    """Read a pickle of data (a dataset index, say) without running code.

    Args:
        file: A binary file object.

    Raises:
        pickle.UnpicklingError: The pickle names any global beyond numpy's plain arrays and
            scalars (:data:`NUMPY_NAMES`), or holds a crafted numpy value.
    """
    return _PlainUnpickler(file).load()
