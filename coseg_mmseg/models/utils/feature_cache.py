"""FeatureCache: the frozen backbone's outputs stored per image, to train without recomputing them.

With the paper's deterministic training pipeline (centre crop + resize, no random flips or
jitter) the frozen CLIP sees the same input for an image in every epoch, so its outputs can be
computed once and read back. Each image's outputs are stored in ``cache_dir`` as one file
(written atomically), keyed by what decides them:

- the backbone: :func:`~coseg_mmseg.models.utils.fingerprint.module_fingerprint` (every
  weight's bytes and the structure: ``out_indices``, heads, activation, ...), so a folder reused
  with other weights or another backbone misses and recomputes instead of serving stale features;
- the image and what the pipeline made of it: path, original / resized / padded shape, scale
  factor and flip, plus a checksum of the network input itself (after the data preprocessor),
  checked on every read: a pipeline changed since the features were stored, or one that is not
  deterministic after all, is refused with an error naming the image and the folder.

Every entry read back is checked before it is served: its tensors have the storage dtype, are
finite, have the shapes of the other entries of this cache (the first one written or read sets
them), and carry an integrity tag of the key, the input checksum and every tensor's bytes
(:mod:`coseg_mmseg.utils.cache_integrity`, a secret in ``cache_dir/.integrity_key``). A
malformed, altered, planted or inconsistent entry is recomputed with a warning and rewritten.

The cache must know the backbone: ``FeatureCache(..., backbone=model.backbone)`` or
:meth:`FeatureCache.bind`; it refuses to read or write without one, and refuses a backbone with
trained parameters (its features change every step) or whose weights change between batches.

Size: about 1.1 MB per image for ViT-B/16 at 224 in float16 (three 196 x 768 activations, the
196 x 512 projected tokens, CLS and pooled embeddings): ~130 GB for COCO-Stuff's 118k images.
"""
import hashlib
import io
import json
import os
import warnings
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from ...utils.atomic_local_backend import write_atomically
from ...utils.cache_integrity import content_tag, integrity_key, tag_matches
from .fingerprint import module_fingerprint

Features = Dict[str, object]


# Version of the stored entries' layout and key: entries of another layout are not read.
CACHE_FORMAT = 3
# The data sample's metainfo that says what the pipeline made of the image.
PIPELINE_KEYS = ('img_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor', 'flip',
                 'flip_direction')


def _tensors(features: Features) -> List[Tensor]:
    """Every tensor of one image's outputs, in a fixed order (keys sorted, lists in order)."""
    found = []
    for name in sorted(features):
        value = features[name]
        found.extend(value if isinstance(value, list) else [value] if isinstance(value, Tensor)
                     else [])
    return found


def _plain(features: Features) -> Dict[str, str]:
    """The values that are not tensors (such as the token grid), as text."""
    return {name: repr(value) for name, value in features.items()
            if not isinstance(value, (list, Tensor))}


def _is_plain(value: object) -> bool:
    """Numbers, strings, None, and tuples of them: what a backbone returns beside tensors."""
    if isinstance(value, tuple):
        return all(_is_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def _layout(features: Features) -> Tuple:
    """What must be the same for every image: names, list lengths, shapes, plain values."""
    return tuple((name, tuple(tuple(t.shape) for t in value) if isinstance(value, list) else
                  tuple(value.shape) if isinstance(value, Tensor) else repr(value))
                 for name, value in sorted(features.items()))


def _checksum(image: Tensor) -> Tensor:
    """Numbers that change with any realistic change of the input (C, H, W): per channel, its
    sum and sum of squares; over the whole, two strided sums."""
    flat = image.detach().double()
    channels = flat.flatten(1)
    whole = flat.flatten()
    return torch.cat([channels.sum(1), channels.square().sum(1),
                      torch.stack([whole[::977].sum(), whole[::31].sum()])]).cpu()


class FeatureCache:
    """Disk cache of backbone outputs.

    Args:
        cache_dir: Folder of the cached files.
        dtype: Storage precision (``'float16'`` halves the disk; features are cast back to the
            model's dtype when read).
        backbone: The module whose outputs are cached (or :meth:`bind` it later).
    """

    def __init__(self, *, cache_dir: str, dtype: str = 'float16',
                 backbone: Optional[nn.Module] = None) -> None:
        self.cache_dir = cache_dir
        self.dtype = getattr(torch, dtype)
        self.backbone: Optional[nn.Module] = None
        self._fingerprint: Optional[str] = None
        self._layout: Optional[Tuple] = None  # of the first entry written or served
        self._secret: Optional[bytes] = None
        if backbone is not None:
            self.bind(backbone)

    def bind(self, backbone: nn.Module) -> None:
        """Cache the outputs of ``backbone``."""
        self.backbone = backbone
        self._fingerprint = None
        self._layout = None

    def _integrity_key(self) -> Optional[bytes]:
        """The folder's secret (read once)."""
        if self._secret is None:
            self._secret = integrity_key(self.cache_dir)
        return self._secret

    def _backbone_fingerprint(self) -> str:
        """The bound backbone's fingerprint; refuses a missing, trained or changing backbone."""
        if self.backbone is None:
            raise RuntimeError(
                f'FeatureCache({self.cache_dir}) does not know the backbone whose outputs it '
                f'stores, so it cannot tell stale features: build it with '
                f'FeatureCache(..., backbone=model.backbone) or call '
                f'model.feature_cache.bind(model.backbone)')
        trained = [name for name, p in self.backbone.named_parameters() if p.requires_grad]
        if trained:
            raise ValueError(
                f'model.feature_cache needs a frozen backbone, but {len(trained)} of its '
                f'parameters are trained ({trained[0]}, ...): its outputs change every step. '
                f'Drop model.feature_cache or freeze the backbone')
        fingerprint = module_fingerprint(self.backbone)
        if self._fingerprint is None:
            self._fingerprint = fingerprint
        elif fingerprint != self._fingerprint:
            raise ValueError(
                f'the backbone changed between two batches ({type(self.backbone).__name__}: '
                f'weights, buffers such as BatchNorm statistics, or settings): '
                f'model.feature_cache needs a backbone that does not change during training '
                f'(frozen, normalisation layers in eval mode). Drop model.feature_cache, or '
                f'call model.feature_cache.bind(model.backbone) after loading new weights')
        return fingerprint

    def _key(self, sample) -> dict:
        """Everything that decides one image's stored outputs, but the input checksum."""
        meta = sample.metainfo
        return json.loads(json.dumps(dict(
            format=CACHE_FORMAT, backbone=self._backbone_fingerprint(),
            **{k: meta.get(k) for k in PIPELINE_KEYS}), default=repr))

    def _path(self, key: dict) -> str:
        name = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
        return os.path.join(self.cache_dir, name + '.pt')

    def get(self, sample, image: Tensor) -> Optional[Features]:
        """The cached outputs for one image, or None; raises if its input changed.

        Args:
            sample: The image's ``SegDataSample`` (its metainfo is part of the key).
            image: (C, H, W) the backbone's input for it.
        """
        key = self._key(sample)
        path = self._path(key)
        if not os.path.isfile(path):
            return None
        try:
            entry = torch.load(path, map_location='cpu', weights_only=True)
            problem = self._entry_problem(entry, key)
        except Exception as exc:  # truncated, not a torch file, foreign layout
            problem = (f'unreadable ({type(exc).__name__}: truncated, not a torch file, or '
                       f'holding objects a weights-only load refuses)')
        if problem == 'another key':
            return None  # another layout (or a hash collision): recompute, overwrite
        if problem is not None:
            warnings.warn(f'ignoring invalid cached backbone features {path}: {problem}; '
                          f'recomputing them')
            return None
        if not torch.allclose(entry['checksum'], _checksum(image), rtol=1e-6, atol=1e-3):
            raise ValueError(
                f"cached backbone features of {sample.metainfo.get('img_path')} in "
                f'{self.cache_dir} were computed from a different input: the training pipeline '
                f'or the data preprocessor changed since they were stored, or the pipeline is '
                f'not deterministic (random crop, flip or colour jitter?). For a changed '
                f'pipeline use a new cache_dir (or delete this one); for a random one drop '
                f'model.feature_cache')
        self._layout = self._layout or _layout(entry['features'])
        return entry['features']

    def _entry_problem(self, entry: object, key: dict) -> Optional[str]:
        """Why a loaded entry must not be served ('another key' for a foreign one), or None."""
        if not isinstance(entry, dict):
            return 'not a feature-cache entry'
        if entry.get('key') != key:
            return 'another key'
        features, checksum = entry.get('features'), entry.get('checksum')
        if not isinstance(features, dict) or not isinstance(checksum, Tensor) or not features:
            return 'not a feature-cache entry'
        for name, value in features.items():
            if isinstance(name, str) and _is_plain(value):
                continue
            parts = value if isinstance(value, list) else [value]
            if not isinstance(name, str) or not all(isinstance(t, Tensor) for t in parts) \
                    or not parts:
                return f'{name!r} is not a tensor, a list of tensors or a plain value'
            if any(t.dtype != self.dtype for t in parts):
                return f'{name!r} is not {self.dtype} (the storage dtype)'
            if not all(torch.isfinite(t).all() for t in parts):
                return f'{name!r} holds NaN or infinite values'
        if self._layout is not None and _layout(features) != self._layout:
            return 'shapes differ from the other entries of this cache'
        if not tag_matches(self._integrity_key(), [key, _plain(features)],
                           [checksum] + _tensors(features), entry.get('tag')):
            return 'integrity tag does not match its content (altered or not written here)'
        return None

    def put(self, sample, image: Tensor, features: Features) -> None:
        """Store one image's outputs (``image``: (C, H, W), as for :meth:`get`)."""
        stored = {k: ([t.to(self.dtype).cpu() for t in v] if isinstance(v, list) else
                      v.to(self.dtype).cpu() if isinstance(v, Tensor) else v)
                  for k, v in features.items()}
        key = self._key(sample)
        secret = self._integrity_key()
        if secret is None:
            raise OSError(f'model.feature_cache cannot read or create its key file in '
                          f'{self.cache_dir}: make the folder writable, or use another cache_dir')
        checksum = _checksum(image)
        self._layout = self._layout or _layout(stored)
        buffer = io.BytesIO()
        torch.save(dict(key=key, checksum=checksum, features=stored,
                        tag=content_tag(secret, [key, _plain(stored)],
                                        [checksum] + _tensors(stored))), buffer)
        write_atomically(buffer.getvalue(), self._path(key))


def split_batch(features: Features, batch: int) -> List[Features]:
    """Batched backbone outputs -> one dict per image."""
    def pick(value, b):
        if isinstance(value, list):
            return [v[b] for v in value]
        return value[b] if isinstance(value, Tensor) else value
    return [{k: pick(v, b) for k, v in features.items()} for b in range(batch)]


def stack_batch(items: List[Features], *, device, dtype) -> Features:
    """One dict per image -> batched backbone outputs on ``device``."""
    def stack(values):
        if isinstance(values[0], list):
            return [torch.stack(parts).to(device, dtype) for parts in zip(*values)]
        if isinstance(values[0], Tensor):
            return torch.stack(values).to(device, dtype)
        return values[0]
    return {k: stack([item[k] for item in items]) for k in items[0]}
