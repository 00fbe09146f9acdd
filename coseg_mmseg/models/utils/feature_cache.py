"""FeatureCache: the frozen backbone's outputs stored per image, to train without recomputing them.

With the paper's deterministic training pipeline (centre crop + resize, no random flips or
jitter) the frozen CLIP sees the same input for an image in every epoch, so its outputs can be
computed once and read back. Each image's outputs are stored in ``cache_dir`` as one file
(written atomically), keyed by the image path and its input shape; a checksum of the input
guards against a pipeline that is not deterministic after all.

Size: about 1.1 MB per image for ViT-B/16 at 224 in float16 (three 196 x 768 activations, the
196 x 512 projected tokens, CLS and pooled embeddings): ~130 GB for COCO-Stuff's 118k images.
"""
import hashlib
import io
import os
from typing import Dict, List, Optional

import torch
from torch import Tensor

from ...utils.atomic_local_backend import write_atomically

Features = Dict[str, object]


def _checksum(image: Tensor) -> Tensor:
    """Two numbers that change with any realistic change of the input."""
    flat = image.detach().flatten().double()
    return torch.stack([flat.sum(), flat[::977].sum()]).cpu()


class FeatureCache:
    """Disk cache of backbone outputs.

    Args:
        cache_dir: Folder of the cached files.
        dtype: Storage precision (``'float16'`` halves the disk; features are cast back to the
            model's dtype when read).
    """

    def __init__(self, *, cache_dir: str, dtype: str = 'float16') -> None:
        self.cache_dir = cache_dir
        self.dtype = getattr(torch, dtype)

    def _path(self, sample) -> str:
        meta = sample.metainfo
        ident = repr((meta.get('img_path'), tuple(meta.get('img_shape', ())),
                      meta.get('flip'), meta.get('flip_direction')))
        name = hashlib.sha256(ident.encode()).hexdigest()[:32]
        return os.path.join(self.cache_dir, name + '.pt')

    def get(self, sample, image: Tensor) -> Optional[Features]:
        """The cached outputs for one image, or None; raises if its input changed."""
        path = self._path(sample)
        if not os.path.isfile(path):
            return None
        entry = torch.load(path, map_location='cpu', weights_only=True)
        if not torch.allclose(entry['checksum'], _checksum(image), rtol=1e-6, atol=1e-3):
            raise ValueError(
                f"cached backbone features of {sample.metainfo.get('img_path')} were computed "
                f'from a different input: the training pipeline is not deterministic (random crop, '
                f'flip or colour jitter?). Use a deterministic pipeline, or drop '
                f'model.feature_cache (cache folder: {self.cache_dir})')
        return entry['features']

    def put(self, sample, image: Tensor, features: Features) -> None:
        """Store one image's outputs."""
        stored = {k: ([t.to(self.dtype).cpu() for t in v] if isinstance(v, list) else
                      v.to(self.dtype).cpu() if isinstance(v, Tensor) else v)
                  for k, v in features.items()}
        buffer = io.BytesIO()
        torch.save(dict(checksum=_checksum(image), features=stored), buffer)
        write_atomically(buffer.getvalue(), self._path(sample))


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
