"""Read CLIP (and CLIPSeg) weights named by an ``init_cfg``: files, the hub, open_clip.

Architecture and weights are separate, as in open_clip: the modules are built from the config,
and their ``init_weights`` asks this module for a state dict in the plugin's layout
(:mod:`.clip_conversion`), named by ``init_cfg``::

    init_cfg=dict(type='CLIPPretrained', source=..., checkpoint=..., model_name=...)

Sources (``source=``):
    ``'huggingface'`` (the default): a hub name (``openai/clip-vit-base-patch16``,
        ``CIDAS/clipseg-rd64-refined``) or a local ``save_pretrained`` directory.
    ``'open_clip'``: ``model_name`` (``'ViT-B-16'``) plus a pretrained tag (``'openai'``) or a
        local checkpoint file.
    ``'converted'``: a file holding a state dict in our layout, e.g. one written by
        ``tools/convert_clipseg.py`` from a checkpoint of the CLIPSeg authors.

The older form ``dict(type='Pretrained', source=..., checkpoint=...)`` (mmengine's type,
overloaded) is still read, with a ``FutureWarning``: checkpoints saved before the change keep
it in their frozen-weight references (:mod:`coseg_mmseg.models.utils.frozen_weights`).
"""
import json
import os
import warnings
from typing import Optional, Tuple

import torch
from torch import nn

from ...utils.cli import UserError
from .clip_conversion import StateDict, convert_hf_clip, convert_open_clip
from ..utils.frozen_weights import full_state_dict

SOURCES = ('huggingface', 'open_clip', 'converted')
INIT_TYPE = 'CLIPPretrained'
DEPRECATED_INIT_TYPE = 'Pretrained'


class CLIPWeightsError(UserError, ValueError):
    """CLIP weights that cannot be used as ``init_cfg`` names them: a bad ``init_cfg``, an
    unreadable file, or weights of another architecture than the config's. A ``ValueError``
    for the code; for the tools, a user's mistake (one ``error:`` line, see
    :mod:`coseg_mmseg.utils.cli`)."""


def _hf_file(name_or_path: str, filename: str) -> Optional[str]:
    """Path of ``filename`` in a local directory or in the hub repo; None if absent."""
    if os.path.isdir(name_or_path):
        path = os.path.join(name_or_path, filename)
        return path if os.path.isfile(path) else None
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError
    try:
        return hf_hub_download(name_or_path, filename)
    except EntryNotFoundError:
        return None


def load_hf_checkpoint(name_or_path: str) -> Tuple[StateDict, dict]:
    """The raw state dict and ``config.json`` of a HuggingFace CLIP/CLIPSeg checkpoint."""
    try:
        config_file = _hf_file(name_or_path, 'config.json')
        weights = _hf_file(name_or_path, 'model.safetensors') or _hf_file(
            name_or_path, 'pytorch_model.bin')
    except Exception as exc:  # offline, unknown repo, bad token: say what was asked for
        raise FileNotFoundError(
            f'could not read HuggingFace checkpoint {name_or_path!r} (neither a local directory '
            f'nor a reachable hub repository): {type(exc).__name__}: {exc}') from exc
    if config_file is None or weights is None:
        raise FileNotFoundError(
            f'{name_or_path!r} holds no HuggingFace checkpoint: expected config.json and '
            f'model.safetensors or pytorch_model.bin')
    with open(config_file) as f:
        config = json.load(f)
    if weights.endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(weights), config
    return torch.load(weights, map_location='cpu', weights_only=True), config


def load_open_clip_checkpoint(model_name: str, pretrained: str) -> Tuple[StateDict, str]:
    """State dict and MLP activation of an open_clip model (tag or local file)."""
    import open_clip
    try:
        model = open_clip.create_model(model_name, pretrained=pretrained, device='cpu')
    except Exception as exc:
        raise FileNotFoundError(
            f'could not load open_clip model {model_name!r} with pretrained={pretrained!r}: '
            f'{type(exc).__name__}: {exc}') from exc
    act = type(model.visual.transformer.resblocks[0].mlp.gelu).__name__
    return model.state_dict(), 'quick_gelu' if act == 'QuickGELU' else 'gelu'


def load_clip_weights(*, source: str, checkpoint: str, model_name: Optional[str] = None
                      ) -> Tuple[StateDict, Optional[str]]:
    """Load CLIP weights in our layout.

    Args:
        source: One of ``'huggingface'``, ``'open_clip'``, ``'converted'``.
        checkpoint: Hub name / directory, open_clip pretrained tag / file, or converted file.
        model_name: open_clip architecture name (``'ViT-B-16'``); open_clip only.

    Returns:
        The state dict and the activation the weights were trained with (``None`` when the
        source does not say).
    """
    if source == 'huggingface':
        raw, config = load_hf_checkpoint(checkpoint)
        act = config.get('vision_config', {}).get('hidden_act')
        return convert_hf_clip(raw), act
    if source == 'open_clip':
        if not model_name:
            raise CLIPWeightsError("source='open_clip' needs model_name (e.g. 'ViT-B-16')")
        raw, act = load_open_clip_checkpoint(model_name, checkpoint)
        return convert_open_clip(raw), act
    if source == 'converted':
        if not os.path.isfile(checkpoint):
            raise FileNotFoundError(f'converted CLIP checkpoint {checkpoint!r} does not exist')
        try:
            data = torch.load(checkpoint, map_location='cpu', weights_only=True)
        except Exception as exc:  # not a torch file, truncated, or objects beyond weights
            raise CLIPWeightsError(f'converted CLIP checkpoint {checkpoint!r} cannot be read: '
                                   f'{type(exc).__name__}; write it with tools/convert_clipseg.py'
                                   ) from exc
        return data.get('state_dict', data), data.get('meta', {}).get('act')
    raise CLIPWeightsError(f'unknown CLIP weights source {source!r}; expected one of {SOURCES}')


def load_submodule_weights(module: nn.Module, state_dict: StateDict, prefix: str, *,
                           origin: str) -> None:
    """Load ``state_dict[prefix*]`` into ``module`` exactly, or fail naming what differs.

    Args:
        module: Target module.
        state_dict: Source, in our layout.
        prefix: Key prefix of the part to load (``'visual.'``, ``'text.'``, ``'decoder.'``).
        origin: Where the weights came from, for the error message.
    """
    part = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    own = full_state_dict(module)
    missing = sorted(set(own) - set(part))
    unexpected = sorted(set(part) - set(own))
    mismatched = [f'{k}: checkpoint {tuple(part[k].shape)} vs model {tuple(own[k].shape)}'
                  for k in own if k in part and part[k].shape != own[k].shape]
    if missing or unexpected or mismatched:
        details = []
        for label, keys in (('missing', missing), ('unexpected', unexpected),
                            ('shape mismatch', mismatched)):
            if keys:
                shown = ', '.join(f'{prefix}{k}' if label != 'shape mismatch' else k
                                  for k in keys[:5])
                more = ' ...' if len(keys) > 5 else ''
                details.append(f'{label} ({len(keys)}): {shown}{more}')
        raise CLIPWeightsError(f'weights from {origin} do not fit {type(module).__name__} '
                               f'(prefix {prefix!r}): ' + '; '.join(details))
    module.load_state_dict(part)


def clip_init_cfg(init_cfg: Optional[dict]) -> Optional[dict]:
    """``init_cfg`` as a ``CLIPPretrained`` dict, or None when it names no CLIP weights.

    The deprecated ``type='Pretrained'`` (with or without ``source``) is converted, with a
    ``FutureWarning``; any other type (or none) gives None.
    """
    if not isinstance(init_cfg, dict) or init_cfg.get('type') not in (INIT_TYPE,
                                                                       DEPRECATED_INIT_TYPE):
        return None
    cfg = dict(init_cfg)
    if cfg['type'] == DEPRECATED_INIT_TYPE:
        cfg['type'] = INIT_TYPE
        cfg.setdefault('source', 'huggingface')
        shown = ', '.join(f'{k}={v!r}' for k, v in cfg.items() if k != 'type')
        warnings.warn(f"init_cfg type='Pretrained' for CLIP weights is deprecated; write "
                      f"init_cfg=dict(type='CLIPPretrained', {shown}) (checkpoints that "
                      f"recorded the old form still load)", FutureWarning, stacklevel=3)
    return cfg


def load_pretrained(init_cfg: Optional[dict], *, act: Optional[str] = None
                    ) -> Optional[Tuple[StateDict, str]]:
    """The CLIP weights a module's ``init_cfg`` names, or None when it names none.

    Args:
        init_cfg: The module's ``init_cfg``: ``dict(type='CLIPPretrained', ...)`` (see
            :class:`~coseg_mmseg.models.clip.CLIPPretrained`), the deprecated
            ``type='Pretrained'`` form, or anything else (None is returned).
        act: The activation the module was built with; weights trained with another one are
            refused (OpenAI's CLIP needs ``'quick_gelu'``). ``None`` skips the check.

    Returns:
        The state dict in our layout and a description of its origin for messages; None when
        ``init_cfg`` names no CLIP weights.
    """
    cfg = clip_init_cfg(init_cfg)
    if cfg is None:
        return None
    from .clip_pretrained import CLIPPretrained  # it uses this module's loaders
    args = {k: v for k, v in cfg.items() if k != 'type'}
    unknown = sorted(set(args) - {'checkpoint', 'source', 'model_name', 'prefix'})
    if unknown:
        raise CLIPWeightsError(f"init_cfg {init_cfg} has unknown keys {unknown}; "
                               f"type='CLIPPretrained' takes source, checkpoint, model_name")
    return CLIPPretrained(**args).load(act=act)
