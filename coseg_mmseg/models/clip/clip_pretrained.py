"""``init_cfg=dict(type='CLIPPretrained', ...)``: the plugin's own initializer for CLIP weights.

It parses the ``init_cfg`` and reads the weights from a source below it
(:mod:`.clip_loading`), which does not import it back.
"""
from typing import Optional, Tuple

from mmengine.registry import WEIGHT_INITIALIZERS
from torch import nn

from .clip_conversion import StateDict
from .clip_loading import (CLIPWeightsError, check_weights_source, load_clip_weights,
                           load_submodule_weights)

INIT_TYPE = 'CLIPPretrained'


@WEIGHT_INITIALIZERS.register_module()
class CLIPPretrained:
    """CLIP (or CLIPSeg) weights from HuggingFace, open_clip or a converted file.

    mmengine's ``Pretrained`` loads an mmengine checkpoint as it is; CLIP weights come in other
    layouts and are mapped to the plugin's (:mod:`.clip_conversion`) first. The frozen CLIP
    modules read it in their ``init_weights`` (:func:`load_pretrained`), each
    taking its part (``visual.``, ``text.``, ``decoder.``); as an mmengine initializer
    (``initialize(module, init_cfg)``) it loads the part under ``prefix`` into the module.

    Args:
        checkpoint: Hub name or ``save_pretrained`` directory (``'huggingface'``), open_clip
            pretrained tag or file (``'open_clip'``), or a file in our layout (``'converted'``).
        source: ``'huggingface'``, ``'open_clip'`` or ``'converted'``.
        model_name: open_clip architecture (``'ViT-B-16'``); ``'open_clip'`` only.
        prefix: The part loaded by ``__call__`` (``'visual.'``, ``'text.'``, ``'decoder.'``).

    Example:
        >>> init_cfg = dict(type='CLIPPretrained', source='huggingface',
        ...                 checkpoint='openai/clip-vit-base-patch16')
    """

    def __init__(self, *, checkpoint: str, source: str = 'huggingface',
                 model_name: Optional[str] = None, prefix: Optional[str] = None) -> None:
        check_weights_source(source, checkpoint, model_name)
        self.checkpoint, self.source, self.model_name = checkpoint, source, model_name
        self.prefix = prefix

    @property
    def origin(self) -> str:
        """Where the weights come from, for messages."""
        name = f' (model_name={self.model_name!r})' if self.model_name else ''
        return f'{self.source} checkpoint {self.checkpoint!r}{name}'

    def load(self, act: Optional[str] = None) -> Tuple[StateDict, str]:
        """The whole state dict in our layout, and :attr:`origin`.

        Args:
            act: The activation the module was built with; weights trained with another one
                are refused (OpenAI's CLIP needs ``'quick_gelu'``). ``None`` skips the check.
        """
        state_dict, trained_act = load_clip_weights(source=self.source,
                                                    checkpoint=self.checkpoint,
                                                    model_name=self.model_name)
        if None not in (act, trained_act) and trained_act != act:
            raise CLIPWeightsError(f'{self.origin} was trained with activation {trained_act!r} '
                                   f'but the model is configured with act={act!r}; set '
                                   f'act={trained_act!r}')
        return state_dict, self.origin

    def __call__(self, module: nn.Module) -> None:
        """Load the part under :attr:`prefix` into ``module`` (mmengine's initializer API)."""
        if self.prefix is None:
            raise CLIPWeightsError("init_cfg type='CLIPPretrained' used as an mmengine initializer "
                                   "needs prefix= ('visual.', 'text.' or 'decoder.')")
        state_dict, origin = self.load(act=getattr(module, 'act', None))
        load_submodule_weights(module, state_dict, self.prefix, origin=origin)


def clip_init_cfg(init_cfg: Optional[dict]) -> Optional[dict]:
    """``init_cfg`` when it is a ``CLIPPretrained`` dict, else None (it names no CLIP weights:
    another type, e.g. mmengine's ``Pretrained`` of a ResNet, or none)."""
    if isinstance(init_cfg, dict) and init_cfg.get('type') == INIT_TYPE:
        return dict(init_cfg)
    return None


def load_pretrained(init_cfg: Optional[dict], *, act: Optional[str] = None
                    ) -> Optional[Tuple[StateDict, str]]:
    """The CLIP weights a frozen CLIP module's ``init_cfg`` names, or None for no ``init_cfg``.

    Args:
        init_cfg: The module's ``init_cfg``: ``dict(type='CLIPPretrained', ...)`` (see
            :class:`CLIPPretrained`) or None (random weights: tests, tiny models).
        act: The activation the module was built with; weights trained with another one are
            refused (OpenAI's CLIP needs ``'quick_gelu'``). ``None`` skips the check.

    Returns:
        The state dict in our layout and a description of its origin for messages; None when
        ``init_cfg`` is None.

    Raises:
        CLIPWeightsError: ``init_cfg`` is of another type (mmengine's ``Pretrained`` reads no
            CLIP layout: the module would stay random), or has unknown keys.
    """
    if init_cfg is None:
        return None
    cfg = clip_init_cfg(init_cfg)
    if cfg is None:
        raise CLIPWeightsError(f"init_cfg {init_cfg} names no CLIP weights; write "
                               f"init_cfg=dict(type='CLIPPretrained', source=..., checkpoint=...)")
    args = {k: v for k, v in cfg.items() if k != 'type'}
    unknown = sorted(set(args) - {'checkpoint', 'source', 'model_name', 'prefix'})
    if unknown:
        raise CLIPWeightsError(f"init_cfg {init_cfg} has unknown keys {unknown}; "
                               f"type='CLIPPretrained' takes source, checkpoint, model_name")
    return CLIPPretrained(**args).load(act=act)
