"""Fingerprints of a module: what decides its outputs, as a short hash, for on-disk cache keys.

:func:`module_fingerprint` hashes every parameter and buffer (name, dtype, shape and bytes)
together with the module's structure (each submodule's class and its plain settings:
``num_heads``, ``out_indices``, ``eps``, the activation's class, ...). Two modules that can
compute different outputs for the same input get different fingerprints; caches keyed on it
(text embeddings, backbone features) cannot serve one model's results to another.

Hashing the weights reads all of them (a CLIP tower: a few hundred MB), so it happens once per
state of the weights: the digest is kept per module, with a cheap token of its tensors (identity,
storage, dtype, shape, device and in-place version counter), and recomputed only when the token
changes: ``load_state_dict``, ``.to()``/``.half()``, an optimiser step.
"""
import hashlib
import json
import weakref
from typing import Dict, List, Tuple

import torch
from torch import Tensor, nn

_PLAIN = (bool, int, float, str, type(None))
# Per-module state that does not change what the module computes.
_IGNORED_ATTRIBUTES = {'training'}
_digests: 'weakref.WeakKeyDictionary[nn.Module, Tuple[tuple, str]]' = \
    weakref.WeakKeyDictionary()


def _tensors(module: nn.Module) -> List[Tuple[str, Tensor]]:
    return [*module.named_parameters(remove_duplicate=False),
            *module.named_buffers(remove_duplicate=False)]


def _token(tensors: List[Tuple[str, Tensor]]) -> tuple:
    """Changes whenever a tensor is replaced, moved, cast or written in place."""
    return tuple((name, id(t), t.data_ptr(), t._version, t.dtype, tuple(t.shape), str(t.device))
                 for name, t in tensors)


def weights_fingerprint(module: nn.Module) -> str:
    """SHA-256 (hex) over every parameter and buffer: names, dtypes, shapes and bytes.

    Computed once per state of the weights (see the module docstring) and then served from
    memory; the same weights in another dtype give another fingerprint.
    """
    tensors = _tensors(module)
    token = _token(tensors)
    cached = _digests.get(module)
    if cached is None or cached[0] != token:
        cached = _digests[module] = (token, hash_tensors(tensors))
    return cached[1]


def hash_tensors(tensors: List[Tuple[str, Tensor]]) -> str:
    """SHA-256 (hex) of named tensors: each one's name, dtype, shape and bytes, in order."""
    digest = hashlib.sha256()
    for name, tensor in tensors:
        data = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(json.dumps([name, str(data.dtype), list(tensor.shape)]).encode())
        digest.update(data.view(torch.uint8).numpy())
    return digest.hexdigest()


def structure_description(module: nn.Module) -> List[list]:
    """Each submodule's name, class and plain settings (numbers, strings, tuples of them)."""
    described = []
    for name, sub in module.named_modules(remove_duplicate=False):
        settings: Dict[str, object] = {}
        for key, value in sorted(vars(sub).items()):
            if key.startswith('_') or key in _IGNORED_ATTRIBUTES:
                continue
            if isinstance(value, _PLAIN) or (isinstance(value, (tuple, list)) and all(
                    isinstance(v, _PLAIN) for v in value)):
                settings[key] = list(value) if isinstance(value, (tuple, list)) else value
        described.append([name, f'{type(sub).__module__}.{type(sub).__qualname__}', settings])
    return described


def module_fingerprint(module: nn.Module) -> str:
    """SHA-256 (hex) of the weights' fingerprint and the module's structure."""
    description = json.dumps([weights_fingerprint(module), structure_description(module)],
                             sort_keys=True, default=repr)
    return hashlib.sha256(description.encode()).hexdigest()
