"""Save frozen pretrained sub-modules as a reference to their weights, not a copy.

CoSeg trains a few million parameters on top of a frozen CLIP of ~150 million. A checkpoint that
copies CLIP into every save is mostly dead weight; instead, the state dict of a frozen module
whose weights come from ``init_cfg`` (``CLIPPretrained``, or mmengine's ``Pretrained``) holds
no tensors, and the module's entry in the state dict's ``_metadata`` records that ``init_cfg``.
Loading such a state dict (mmengine's loader or ``torch.nn.Module.load_state_dict``) reloads the
weights from the reference first, so the full model is rebuilt and strict loading passes.
"""
from typing import Dict, Optional

from torch import Tensor, nn

REFERENCE_KEY = 'coseg_frozen_weights'
# The init_cfg types that name weights: the plugin's CLIP sources, mmengine's and mmseg's.
PRETRAINED_TYPES = ('CLIPPretrained', 'Pretrained', 'Pretrained_Part')


def is_frozen_pretrained(module: nn.Module) -> bool:
    """True for a module with parameters, none trainable, whose weights ``init_cfg`` names."""
    init_cfg = getattr(module, 'init_cfg', None)
    params = list(module.parameters())
    pretrained = isinstance(init_cfg, dict) and init_cfg.get('type') in PRETRAINED_TYPES
    return pretrained and bool(params) and not any(p.requires_grad for p in params)


def _drop_weights(module: nn.Module, state_dict: Dict, prefix: str,
                  local_metadata: Dict) -> None:
    """State-dict hook: remove the module's tensors, record where they come from."""
    if not module.__dict__.get('_coseg_save_reference', True):
        return
    for key in [k for k in state_dict if k.startswith(prefix)]:
        del state_dict[key]
    local_metadata[REFERENCE_KEY] = dict(module.init_cfg)


def _reload_weights(module: nn.Module, state_dict: Dict, prefix: str, local_metadata: Dict,
                    *args) -> None:
    """Load-state-dict pre-hook: fill in the module's tensors from the recorded reference."""
    reference: Optional[dict] = local_metadata.get(REFERENCE_KEY)
    if reference is None or any(k.startswith(prefix) for k in state_dict):
        return
    own_cfg = module.init_cfg
    module.init_cfg = dict(reference)
    try:
        module.init_weights()
    finally:
        module.init_cfg = own_cfg
    state_dict.update({prefix + k: v for k, v in full_state_dict(module).items()})


def full_state_dict(module: nn.Module) -> Dict[str, Tensor]:
    """``module.state_dict()`` with its tensors, also where it saves a reference instead."""
    saves_reference = module.__dict__.get('_coseg_save_reference')
    if saves_reference is None:
        return module.state_dict()
    module._coseg_save_reference = False
    try:
        return module.state_dict()
    finally:
        module._coseg_save_reference = saves_reference


def save_frozen_as_reference(module: nn.Module) -> None:
    """Make ``module`` (frozen, pretrained) save a weights reference instead of its tensors.

    Idempotent: a module already set up is left as it is.
    """
    if module.__dict__.get('_coseg_save_reference') is not None:
        return
    module._coseg_save_reference = True
    module._register_state_dict_hook(_drop_weights)
    module._register_load_state_dict_pre_hook(_reload_weights, with_module=True)
