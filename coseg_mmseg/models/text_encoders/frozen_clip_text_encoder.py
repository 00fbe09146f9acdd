"""FrozenCLIPTextEncoder: class names -> prompts -> CLIP text embeddings, cached per vocabulary."""
import hashlib
import io
import json
import os
import warnings
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ...datasets.vocabularies import check_vocabulary
from ...utils.atomic_local_backend import write_atomically
from ...utils.cache_integrity import content_tag, integrity_key, tag_matches
from ..clip import CLIPTextTower, load_pretrained, load_submodule_weights
from ..utils.fingerprint import module_fingerprint

PROMPTS_PER_BATCH = 256
# Version of the disk entries' key: entries written under another layout are not read.
CACHE_FORMAT = 3


def default_cache_dir() -> str:
    """``$COSEG_CACHE_DIR`` or ``~/.cache/coseg-mmseg``."""
    return os.environ.get('COSEG_CACHE_DIR') or os.path.join(
        os.path.expanduser('~'), '.cache', 'coseg-mmseg')


def check_templates(templates: Sequence[str]) -> Tuple[str, ...]:
    """Validate prompt templates: a non-empty list of strings with one ``{}`` each."""
    if isinstance(templates, str) or not templates or any(
            not isinstance(t, str) or t.count('{}') != 1 for t in templates):
        raise ValueError(f'templates must be a list of strings with one "{{}}" each, '
                         f'got {templates!r}')
    return tuple(templates)


@MODELS.register_module()
class FrozenCLIPTextEncoder(BaseModule):
    """CLIP's text tower, frozen, turning class names into normalised embeddings.

    Each name is put into every template, encoded, L2-normalised, averaged over templates and
    normalised again (CLIP's prompt ensembling). Results are cached per (names, templates,
    normalisation, dtype) in memory, as mmseg's ``CLIPTextEncoder`` does; with
    ``disk_cache=True`` (opt-in) also on disk under ``cache_dir/text_embeddings/`` — so a
    459-class vocabulary is encoded once, across runs.
    A disk entry is keyed on everything that decides the embeddings: the text tower's
    :func:`~coseg_mmseg.models.utils.fingerprint.module_fingerprint` (every weight's bytes and
    the structure: blocks, heads, activation class, ...), the activation name, the weights'
    dtype, the templates, the names and the normalisation flag; the fingerprint is computed once
    per loaded weights, not per call. Cache files are written atomically (concurrent writers
    cannot leave a partial file). A disk entry is served only if it is a (K, D) tensor of the
    key's dtype, finite, and carries the integrity tag of its key and bytes
    (:mod:`coseg_mmseg.utils.cache_integrity`); a corrupt, mismatching or planted entry is
    recomputed with a warning and rewritten. The memory cache is cleared when weights are
    (re)loaded.

    Args:
        vocab_size: BPE vocabulary size (49408).
        context_length: Tokens per prompt (77).
        embed_dims: Text transformer width (512 for ViT-B/16's CLIP).
        num_layers: Transformer blocks (12).
        num_heads: Attention heads (8).
        output_dim: Width of CLIP's joint space (512).
        mlp_ratio: MLP hidden width over ``embed_dims``.
        act: MLP activation; ``'quick_gelu'`` for OpenAI's weights.
        templates: Prompt templates with one ``{}`` for the class name.
        disk_cache: Also keep encoded vocabularies on disk, across runs (off by default:
            nothing is written outside the work dir unless asked for; in a config
            ``model.text_encoder.disk_cache=True``).
        cache_dir: Where; ``None`` is ``$COSEG_CACHE_DIR`` or ``~/.cache/coseg-mmseg``.
        init_cfg: Same form as :class:`FrozenCLIPBackbone`'s.
    """

    # Its init_weights reads init_cfg type 'CLIPPretrained' only:
    # the frozen-weights references it accepts from a checkpoint (models/utils/frozen_weights).
    loads_clip_weights = True

    def __init__(self, *, vocab_size: int = 49408, context_length: int = 77,
                 embed_dims: int = 512, num_layers: int = 12, num_heads: int = 8,
                 output_dim: int = 512, mlp_ratio: float = 4.0, act: str = 'quick_gelu',
                 templates: Sequence[str] = ('a photo of a {}.', ), disk_cache: bool = False,
                 cache_dir: Optional[str] = None, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.act = act
        self.templates = check_templates(templates)
        self.text = CLIPTextTower(
            vocab_size=vocab_size, context_length=context_length, width=embed_dims,
            depth=num_layers, num_heads=num_heads, output_dim=output_dim, mlp_ratio=mlp_ratio,
            act=act)
        self.requires_grad_(False)
        self.eval()
        self.disk_cache = disk_cache
        self.cache_dir = cache_dir
        self._tokenizer = None
        self._cache: Dict[tuple, Tensor] = {}
        self._register_load_state_dict_pre_hook(lambda *args, **kwargs: self._forget())

    def _forget(self) -> None:
        """Drop what was computed from the current weights."""
        self._cache.clear()

    def cache_key(self, names: Sequence[str], templates: Sequence[str],
                  normalize: bool) -> tuple:
        """The memory-cache key of an embedding request: (names, templates, normalize, dtype)."""
        return (tuple(names), tuple(templates), bool(normalize),
                str(self.text.text_projection.dtype))

    def _stored_key(self, key: tuple) -> dict:
        """Everything that decides the embeddings of ``key``, as it reads back from a file."""
        names, templates, normalize, dtype = key
        return json.loads(json.dumps(dict(
            format=CACHE_FORMAT, text_tower=module_fingerprint(self.text), act=self.act,
            dtype=dtype, templates=templates, names=names, normalize=normalize)))

    def _disk_path(self, stored_key: dict) -> str:
        name = hashlib.sha256(json.dumps(stored_key, sort_keys=True).encode())
        return os.path.join(self._folder(), name.hexdigest()[:32] + '.pt')

    def _folder(self) -> str:
        return os.path.join(self.cache_dir or default_cache_dir(), 'text_embeddings')

    def _entry_problem(self, entry: object, key: tuple, stored_key: dict,
                       secret: Optional[bytes]) -> Optional[str]:
        """Why a loaded disk entry must not be served, or None if it may."""
        if not isinstance(entry, dict) or entry.get('key') != stored_key:
            return 'written for another vocabulary, model or format'
        embeds = entry.get('embeds')
        width = self.text.text_projection.shape[-1]
        if not isinstance(embeds, Tensor) or tuple(embeds.shape) != (len(key[0]), width):
            shape = tuple(embeds.shape) if isinstance(embeds, Tensor) else type(embeds).__name__
            return f'embeddings of shape {shape}, expected ({len(key[0])}, {width})'
        if str(embeds.dtype) != key[3]:
            return f'embeddings of dtype {embeds.dtype}, expected {key[3]}'
        if not torch.isfinite(embeds).all():
            return 'embeddings with NaN or infinite values'
        if not tag_matches(secret, stored_key, [embeds], entry.get('tag')):
            return 'integrity tag does not match its content (altered or not written here)'
        return None

    def _read_disk(self, key: tuple) -> Optional[Tensor]:
        stored_key = self._stored_key(key)
        path = self._disk_path(stored_key)
        if not os.path.isfile(path):
            return None
        try:
            entry = torch.load(path, map_location='cpu', weights_only=True)
            problem = self._entry_problem(entry, key, stored_key, integrity_key(self._folder()))
        except Exception as exc:  # corrupt, truncated, foreign
            problem = (f'unreadable ({type(exc).__name__}: truncated, not a torch file, or '
                       f'holding objects a weights-only load refuses)')
        if problem is not None:  # recomputed and rewritten by the caller
            warnings.warn(f'ignoring invalid text-embedding cache {path}: {problem}; '
                          f'recomputing it')
            return None
        return entry['embeds']

    def _write_disk(self, key: tuple, embeds: Tensor) -> None:
        stored_key = self._stored_key(key)
        secret = integrity_key(self._folder())
        if secret is None:
            warnings.warn(f'could not write the text-embedding cache: cannot read or create '
                          f'its key file in {self._folder()}')
            return
        embeds = embeds.detach().cpu()
        buffer = io.BytesIO()
        torch.save(dict(key=stored_key, embeds=embeds,
                        tag=content_tag(secret, stored_key, [embeds])), buffer)
        try:
            write_atomically(buffer.getvalue(), self._disk_path(stored_key))
        except OSError as exc:  # a read-only or full disk costs speed, not the run
            warnings.warn(f'could not write the text-embedding cache: {exc}')

    def init_weights(self) -> None:
        """Load the CLIP weights named by ``init_cfg`` (``type='CLIPPretrained'``)."""
        loaded = load_pretrained(self.init_cfg, act=self.act)  # None: init_cfg names none
        if loaded is not None:
            state_dict, origin = loaded
            load_submodule_weights(self.text, state_dict, 'text.', origin=origin)
            self._forget()
        self._is_init = True

    def train(self, mode: bool = True) -> 'FrozenCLIPTextEncoder':
        """Stay in eval mode: the text tower is frozen."""
        return super().train(False)

    def tokenize(self, texts: Sequence[str]) -> Tensor:
        """CLIP's BPE tokenizer (shipped inside open_clip): texts -> (T, context_length)."""
        if self._tokenizer is None:
            from open_clip.tokenizer import SimpleTokenizer
            self._tokenizer = SimpleTokenizer(context_length=self.text.context_length)
        return self._tokenizer(list(texts))

    @torch.no_grad()
    def encode(self, names: Sequence[str], *, templates: Optional[Sequence[str]] = None,
               normalize: bool = True) -> Tensor:
        """Text embeddings of class names, cached per (names, templates, normalize, dtype).

        Args:
            names: K class names, written as natural words ("potted plant").
            templates: Prompt templates; ``None`` uses the encoder's.
            normalize: Unit-norm embeddings, ensembled over templates (for classification);
                False gives CLIP's raw projected features averaged over templates (what CLIPSeg
                is conditioned on).

        Returns:
            (K, D) embeddings on the encoder's device.
        """
        templates = self.templates if templates is None else check_templates(templates)
        key = self.cache_key(check_vocabulary(names), templates, normalize)
        device = self.text.text_projection.device
        if key not in self._cache:
            embeds = self._read_disk(key) if self.disk_cache else None
            if embeds is None:
                # float32 whatever the caller's autocast: the embeddings are cached and reused
                with torch.autocast(device.type, enabled=False):
                    embeds = self._encode(key[0], templates, normalize)
                if self.disk_cache:
                    self._write_disk(key, embeds)
            self._cache[key] = embeds.to(device)
        return self._cache[key].to(device)

    def _encode(self, names: Tuple[str, ...], templates: Tuple[str, ...],
                normalize: bool) -> Tensor:
        """Run the text tower over every (name, template) prompt: (K, D)."""
        from tqdm import tqdm
        device = self.text.text_projection.device
        prompts = [t.format(n) for n in names for t in templates]
        starts = range(0, len(prompts), PROMPTS_PER_BATCH)
        embeds = torch.cat([
            self.text(self.tokenize(prompts[i:i + PROMPTS_PER_BATCH]).to(device))
            for i in tqdm(starts, desc=f'encoding {len(names)} class names',
                          disable=len(starts) < 2)]).unflatten(0, (len(names), -1))  # (K, T, D)
        if normalize:
            return F.normalize(F.normalize(embeds, dim=-1).mean(dim=1), dim=-1)
        return embeds.mean(dim=1)

    def forward(self, names: Sequence[str]) -> Tensor:
        """(K, D) unit-norm embeddings of ``names`` with the encoder's templates."""
        return self.encode(names)
