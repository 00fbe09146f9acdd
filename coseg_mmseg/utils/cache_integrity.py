"""Integrity tags for the disk caches: an entry is served only if it is what this user wrote.

The text-embedding cache and the feature cache store tensors computed from the model; a cache
entry that is corrupt, truncated, written by an older version, or planted (right file name,
other content: two classes' embeddings swapped) must be recomputed, not served. Each entry
carries a tag: HMAC-SHA256, under a random 32-byte secret kept in the cache folder
(``.integrity_key``, mode 0600, created on first use), of the entry's key and of every tensor's
dtype, shape and bytes. An entry whose tag does not match is recomputed.

What this does and does not protect: any change to an entry's bytes, and any entry written by
someone who cannot read the key file, is detected. Someone who can read the key file (the same
user) can write valid entries: the cache folder belongs to its user.
"""
import hashlib
import hmac
import json
import os
from typing import Iterable, Optional

import torch
from torch import Tensor

KEY_FILE = '.integrity_key'
KEY_BYTES = 32


def integrity_key(folder: str) -> Optional[bytes]:
    """The folder's secret, created (mode 0600) if missing; None if it cannot be read or made.

    Args:
        folder: The cache folder (created if missing).
    """
    path = os.path.join(folder, KEY_FILE)
    try:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError:
        return None
    else:
        with os.fdopen(fd, 'wb') as f:
            f.write(os.urandom(KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())
    try:
        with open(path, 'rb') as f:
            secret = f.read()
    except OSError:
        return None
    return secret if len(secret) == KEY_BYTES else None


def tensor_bytes(tensor: Tensor) -> bytes:
    """A tensor's dtype, shape and raw bytes (any dtype, bfloat16 included)."""
    flat = tensor.detach().cpu().contiguous().reshape(-1)
    return (f'{flat.dtype}{tuple(tensor.shape)}'.encode() +
            flat.view(torch.uint8).numpy().tobytes())


def content_tag(secret: bytes, key: object, tensors: Iterable[Tensor]) -> str:
    """HMAC-SHA256 hex of ``key`` (JSON) and ``tensors`` (in order) under ``secret``."""
    mac = hmac.new(secret, json.dumps(key, sort_keys=True, default=repr).encode(), hashlib.sha256)
    for tensor in tensors:
        mac.update(tensor_bytes(tensor))
    return mac.hexdigest()


def tag_matches(secret: Optional[bytes], key: object, tensors: Iterable[Tensor],
                tag: object) -> bool:
    """Whether ``tag`` is :func:`content_tag` of the entry (False without a secret)."""
    return (secret is not None and isinstance(tag, str)
            and hmac.compare_digest(content_tag(secret, key, tensors), tag))
