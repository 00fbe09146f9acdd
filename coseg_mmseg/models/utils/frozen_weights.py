"""Save frozen pretrained sub-modules as a reference to their weights, not a copy.

CoSeg trains a few million parameters on top of a frozen CLIP of ~150 million. A checkpoint that
copies CLIP into every save is mostly dead weight; instead, the state dict of a frozen module
whose weights come from ``init_cfg`` (``CLIPPretrained``, or mmengine's ``Pretrained``) holds
no tensors, and the module's entry in the state dict's ``_metadata`` records that ``init_cfg``.
Loading such a state dict (mmengine's loader or ``torch.nn.Module.load_state_dict``) reloads the
weights from the reference first, so the full model is rebuilt and strict loading passes.

References record the ``init_cfg`` as it was, a local path made absolute (so that the
checkpoint loads from any working directory).

A reference comes from a checkpoint, an input like any other. Before it is loaded,
:func:`check_reference` refuses one whose type this module does not load (a frozen CLIP would
then keep random weights and every tool would run it silently), an empty one, unknown keys or
values, and paths that name no weights (a folder without a HuggingFace checkpoint, a file that
is no weights file: ``/etc/passwd``); a relative path that does not exist is not tried as a
hub repository behind the user's back. After the load, a module whose tensors were not all
written is an error too (:class:`FrozenReferenceError`).
"""
import os
import re
from typing import Dict, Optional, Tuple

from torch import Tensor, nn

from ...utils.errors import UserError

REFERENCE_KEY = 'coseg_frozen_weights'
# The init_cfg types that name weights: the plugin's CLIP sources, mmengine's and mmseg's.
PRETRAINED_TYPES = ('CLIPPretrained', 'Pretrained', 'Pretrained_Part')
# Types a module reads alike: a reference may hold any type of a group its config's type is in.
COMPATIBLE_TYPES = ({'Pretrained', 'Pretrained_Part'}, )  # mmengine's and mmseg's (non-CLIP modules)
REFERENCE_KEYS = {
    'CLIPPretrained': {'type', 'source', 'checkpoint', 'model_name', 'prefix'},
    'Pretrained': {'type', 'checkpoint', 'prefix', 'map_location'},
    'Pretrained_Part': {'type', 'checkpoint', 'prefix', 'map_location'},
}
# Files that hold weights, by name: a reference to anything else is refused.
WEIGHT_SUFFIXES = ('.pth', '.pt', '.bin', '.ckpt', '.safetensors')
# mmengine's checkpoint schemes a Pretrained reference may name besides a local file.
REMOTE_SCHEMES = ('open-mmlab://', 'openmmlab://', 'mmcls://', 'torchvision://', 'http://',
                  'https://')
HUB_ID = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*')
TAG = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]*')


class FrozenReferenceError(UserError, ValueError):
    """A checkpoint's reference to frozen weights that is refused or loads nothing."""


DEFAULT_FIX = 'load a checkpoint written by tools/train.py'


def _refuse(module: nn.Module, reference: object, why: str,
            fix: str = DEFAULT_FIX) -> FrozenReferenceError:
    shown = repr(reference)
    shown = shown if len(shown) <= 200 else shown[:200] + '...'
    return FrozenReferenceError(
        f'the checkpoint\'s frozen-weights reference of {type(module).__name__} ({shown}) is '
        f'refused: {why}; {fix}')


def _check_local_path(module: nn.Module, reference: dict, path: str, *,
                      folder: bool) -> None:
    """``path`` exists and is what weights are kept in (a HuggingFace folder or a weights
    file); a relative path is named with the working directory it was looked for in."""
    where = '' if os.path.isabs(path) else f' (relative to the working directory {os.getcwd()})'
    if not os.path.exists(path):
        raise _refuse(module, reference, f'{path!r} does not exist{where}',
                      'run the tool where that path exists (checkpoints of earlier versions '
                      'record a relative path as the config gave it), or put the weights there')
    if folder:
        if not os.path.isfile(os.path.join(path, 'config.json')):
            raise _refuse(module, reference, f'{path!r}{where} is no HuggingFace checkpoint '
                          f'folder (no config.json)')
    elif not os.path.isfile(path) or not path.endswith(WEIGHT_SUFFIXES):
        raise _refuse(module, reference, f'{path!r}{where} is no weights file (a file ending '
                      f'in {", ".join(WEIGHT_SUFFIXES)})')


def check_reference(module: nn.Module, reference: object) -> dict:
    """The reference ``module`` may load, or a :class:`FrozenReferenceError` saying why not.

    Args:
        module: The frozen module; its own (config) ``init_cfg`` says which types it loads.
        reference: What the checkpoint recorded.

    Returns:
        The reference as a dict.
    """
    reads_clip = getattr(module, 'loads_clip_weights', False)
    own_type = (module.init_cfg or {}).get('type')
    if reads_clip:  # its init_weights reads CLIPPretrained only
        allowed = {'CLIPPretrained'}
    else:
        allowed = set().union(*(group for group in COMPATIBLE_TYPES if own_type in group)) or {
            own_type}
    if not isinstance(reference, dict) or not reference:
        raise _refuse(module, reference, 'it is empty or not a dict, so it names no weights')
    kind = reference.get('type')
    if kind not in allowed:
        raise _refuse(module, reference, f'type {kind!r} is not one this module loads '
                      f'({", ".join(sorted(allowed))}); it would keep random weights')
    unknown = sorted(set(reference) - REFERENCE_KEYS[kind])
    if unknown:
        raise _refuse(module, reference, f'unknown keys {unknown}')
    bad = [k for k, v in reference.items()
           if not (isinstance(v, str) and v and '\x00' not in v) and not (
               v is None and k in ('model_name', 'prefix', 'map_location'))]
    if bad or 'checkpoint' not in reference:
        raise _refuse(module, reference, f'{(bad or ["checkpoint"])[0]!r} must be a '
                      f'non-empty string')
    path = reference['checkpoint']
    source = reference.get('source')
    if reads_clip:
        source = source or 'huggingface'
        if source == 'huggingface':
            if os.path.isdir(path) or not HUB_ID.fullmatch(path) or '..' in path:
                _check_local_path(module, reference, path, folder=True)
        elif source == 'open_clip':
            if not TAG.fullmatch(path):
                _check_local_path(module, reference, path, folder=False)
        elif source == 'converted':
            _check_local_path(module, reference, path, folder=False)
        else:
            raise _refuse(module, reference, f'unknown source {source!r}')
    elif not path.startswith(REMOTE_SCHEMES):
        _check_local_path(module, reference, path, folder=False)
    return dict(reference)


def recorded_reference(init_cfg: dict) -> dict:
    """``init_cfg`` as a checkpoint records it: a local path made absolute."""
    reference = dict(init_cfg)
    path = reference.get('checkpoint')
    if isinstance(path, str) and path and os.path.exists(path):
        reference['checkpoint'] = os.path.abspath(path)
    return reference


def _tensor_identities(module: nn.Module) -> Dict[str, Tuple[int, int]]:
    """Each tensor's storage address and version counter: both stay put unless written."""
    return {k: (t.data_ptr(), t._version) for k, t in full_state_dict(module).items()}


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
    local_metadata[REFERENCE_KEY] = recorded_reference(module.init_cfg)


def _reload_weights(module: nn.Module, state_dict: Dict, prefix: str, local_metadata: Dict,
                    *args) -> None:
    """Load-state-dict pre-hook: fill in the module's tensors from the recorded reference."""
    reference: Optional[dict] = local_metadata.get(REFERENCE_KEY)
    if reference is None or any(k.startswith(prefix) for k in state_dict):
        return
    reference = check_reference(module, reference)
    before = _tensor_identities(module)
    own_cfg = module.init_cfg
    module.init_cfg = reference
    try:
        module.init_weights()
    finally:
        module.init_cfg = own_cfg
    after = _tensor_identities(module)
    unwritten = [k for k, identity in before.items() if after.get(k) == identity]
    if unwritten:
        raise _refuse(module, reference, f'loading it wrote {len(before) - len(unwritten)} of '
                      f'the module\'s {len(before)} tensors ({prefix}{unwritten[0]} kept its '
                      f'random values)')
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
