"""``init_cfg=dict(type='CLIPPretrained', ...)``: the plugin's own initializer for CLIP weights."""
from typing import Optional, Tuple

from mmengine.registry import WEIGHT_INITIALIZERS
from torch import nn

from .clip_conversion import StateDict
from .clip_loading import SOURCES, CLIPWeightsError, load_clip_weights, load_submodule_weights


@WEIGHT_INITIALIZERS.register_module()
class CLIPPretrained:
    """CLIP (or CLIPSeg) weights from HuggingFace, open_clip or a converted file.

    mmengine's ``Pretrained`` loads an mmengine checkpoint as it is; CLIP weights come in other
    layouts and are mapped to the plugin's (:mod:`.clip_conversion`) first. The frozen CLIP
    modules read it in their ``init_weights`` (:func:`~.clip_loading.load_pretrained`), each
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
        if source not in SOURCES:
            raise CLIPWeightsError(f"init_cfg type='CLIPPretrained': unknown source {source!r}; "
                                   f'expected one of {SOURCES}')
        if not checkpoint:
            raise CLIPWeightsError(f"init_cfg type='CLIPPretrained' (source={source!r}) needs a "
                                   f"'checkpoint'")
        if source == 'open_clip' and not model_name:
            raise CLIPWeightsError("init_cfg type='CLIPPretrained' with source='open_clip' needs "
                                   "model_name (e.g. 'ViT-B-16')")
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
