"""FrozenCLIPTextEncoder: class names -> prompts -> CLIP text embeddings, cached per vocabulary."""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..clip import CLIPTextTower, load_pretrained, load_submodule_weights


def check_vocabulary(names: Sequence[str], *, what: str = 'vocabulary') -> Tuple[str, ...]:
    """Validate a list of class names: non-empty strings, at least one, no duplicates."""
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f'{what} must be a list of class names, got {type(names).__name__}')
    names = tuple(names)
    if not names:
        raise ValueError(f'{what} is empty: give at least one class name')
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f'{what}[{i}] = {name!r} is not a non-empty string')
    seen: Dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise ValueError(f'{what} has {name!r} twice (positions {seen[name]} and {i})')
        seen[name] = i
    return names


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
    normalised again (CLIP's prompt ensembling). Results are cached per (names, templates), so
    a vocabulary is encoded once; the cache is cleared when weights are (re)loaded.

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
        init_cfg: Same form as :class:`FrozenCLIPBackbone`'s.
    """

    def __init__(self, *, vocab_size: int = 49408, context_length: int = 77,
                 embed_dims: int = 512, num_layers: int = 12, num_heads: int = 8,
                 output_dim: int = 512, mlp_ratio: float = 4.0, act: str = 'quick_gelu',
                 templates: Sequence[str] = ('a photo of a {}.', ),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.act = act
        self.templates = check_templates(templates)
        self.text = CLIPTextTower(
            vocab_size=vocab_size, context_length=context_length, width=embed_dims,
            depth=num_layers, num_heads=num_heads, output_dim=output_dim, mlp_ratio=mlp_ratio,
            act=act)
        self.requires_grad_(False)
        self.eval()
        self._tokenizer = None
        self._cache: Dict[tuple, Tensor] = {}
        self._register_load_state_dict_pre_hook(lambda *args, **kwargs: self._cache.clear())

    def init_weights(self) -> None:
        """Load the CLIP weights named by ``init_cfg``."""
        if self.init_cfg and self.init_cfg.get('type') == 'Pretrained':
            state_dict, origin = load_pretrained(self.init_cfg, act=self.act)
            load_submodule_weights(self.text, state_dict, 'text.', origin=origin)
            self._cache.clear()
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
        """Text embeddings of class names, cached per (names, templates, normalize).

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
        key = (check_vocabulary(names), templates, normalize)
        if key not in self._cache:
            device = self.text.text_projection.device
            prompts = [t.format(n) for n in key[0] for t in templates]
            embeds = torch.cat([
                self.text(self.tokenize(prompts[i:i + 256]).to(device))
                for i in range(0, len(prompts), 256)]).unflatten(0, (len(key[0]), -1))
            if normalize:  # (K, T, D) -> (K, D)
                embeds = F.normalize(F.normalize(embeds, dim=-1).mean(dim=1), dim=-1)
            else:
                embeds = embeds.mean(dim=1)
            self._cache[key] = embeds
        return self._cache[key].to(self.text.text_projection.device)

    def forward(self, names: Sequence[str]) -> Tensor:
        """(K, D) unit-norm embeddings of ``names`` with the encoder's templates."""
        return self.encode(names)
