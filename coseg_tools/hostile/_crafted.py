"""Crafted checkpoint files, as an attacker or a broken disk would hand them to the tools.

Each builder writes one file and returns its path. The pickles are made with ``torch.save`` of
objects whose ``__reduce__`` says what the attacker wants unpickled, so the files hold exactly
the opcodes a malicious checkpoint would.
"""
import io
import os
import zipfile
from pathlib import Path
from typing import Optional

import numpy as np
import torch


class _WritesMarker:
    """Unpickles as ``open(marker, 'w')``: code run by loading (a file appears)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, 'w')


def code_running_checkpoint(path: Path, marker: Path, state_dict: Optional[dict] = None,
                            meta: Optional[dict] = None) -> Path:
    """A checkpoint whose ``meta`` runs ``open(marker, 'w')`` when fully unpickled.

    ``state_dict`` and ``meta`` may be a real model's, so that the weights-only part of the
    file is valid and only the payload is hostile.
    """
    meta = dict(meta or {})
    meta['payload'] = _WritesMarker(str(marker))
    torch.save(dict(state_dict=state_dict or {}, meta=meta), path)
    return Path(path)


class _FieldAtOffset:
    """Unpickles as ``numpy.dtype('f8')`` whose BUILD state adds a field at ``offset``."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def __reduce__(self):
        state = (3, '<', None, ('x', ), {'x': (np.dtype('f8'), self.offset)}, 8, 1, 16)
        return np.dtype, ('f8', False, True), state


class _ArrayOf:
    """Unpickles as a one-element array (8 zero bytes) of the crafted dtype."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def __reduce__(self):
        return (np._core.multiarray._reconstruct, (np.ndarray, (0, ), b'b'),
                (1, (1, ), _FieldAtOffset(self.offset), False, bytes(8)))


def structured_dtype_checkpoint(path: Path, offset: int = 1 << 40) -> Path:
    """A checkpoint whose ``meta['palette']`` is an array of a structured dtype with a field
    ``offset`` bytes past its 8-byte item: reading the field reads outside the array."""
    torch.save(dict(state_dict={}, meta=dict(palette=_ArrayOf(offset))), path)
    return Path(path)


def object_dtype_checkpoint(path: Path) -> Path:
    """A checkpoint holding a numpy array of dtype object (pickles its items as objects)."""
    torch.save(dict(state_dict={}, meta=dict(names=np.array(['a', None], dtype=object))), path)
    return Path(path)


def list_checkpoint(path: Path) -> Path:
    """A ``.pth`` that holds a list, not a dict."""
    torch.save([torch.zeros(2), torch.ones(2)], path)
    return Path(path)


def tensor_checkpoint(path: Path) -> Path:
    """A ``.pth`` that holds a bare tensor."""
    torch.save(torch.zeros(3, 3), path)
    return Path(path)


def dot_dot_zip_checkpoint(path: Path) -> Path:
    """A real checkpoint rewritten with ``../`` in front of every zip member name."""
    buffer = io.BytesIO()
    torch.save(dict(state_dict=dict(w=torch.zeros(2))), buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as out:
        for info in source.infolist():
            out.writestr('../' + info.filename, source.read(info.filename))
    return Path(path)


def with_reference(checkpoint: Path, out: Path, reference) -> Path:
    """``checkpoint`` (a tiny CoSeg's) with every frozen-weights reference replaced by
    ``reference`` (anything: a dict, an empty dict, another type)."""
    from coseg_mmseg.models.utils.frozen_weights import REFERENCE_KEY
    data = torch.load(checkpoint, map_location='cpu', weights_only=True)
    metadata = data['state_dict']._metadata
    for entry in metadata.values():
        if REFERENCE_KEY in entry:
            entry[REFERENCE_KEY] = reference
    torch.save(data, out)
    return Path(out)


def empty_file(path: Path) -> Path:
    """A 0-byte file (an image or a checkpoint cut off before its first byte)."""
    Path(path).write_bytes(b'')
    return Path(path)


def exists(path: os.PathLike) -> bool:
    return os.path.lexists(path)
