"""Read CLIP (and CLIPSeg) weights from a source: files, the hub, open_clip.

Architecture and weights are separate, as in open_clip: the modules are built from the config,
and their ``init_weights`` reads a state dict in the plugin's layout (:mod:`.clip_conversion`)
from here, through the ``init_cfg`` type above this module
(:class:`~coseg_mmseg.models.clip.clip_pretrained.CLIPPretrained`)::

    init_cfg=dict(type='CLIPPretrained', source=..., checkpoint=..., model_name=...)

Sources (``source=``):
    ``'huggingface'`` (the default): a hub name (``openai/clip-vit-base-patch16``,
        ``CIDAS/clipseg-rd64-refined``) or a local ``save_pretrained`` directory.
    ``'open_clip'``: ``model_name`` (``'ViT-B-16'``) plus a pretrained tag (``'openai'``) or a
        local checkpoint file.
    ``'converted'``: a file holding a state dict in our layout, e.g. one written by
        ``tools/convert_clipseg.py`` from a checkpoint of the CLIPSeg authors.
"""
import json
import os
from typing import Optional, Tuple

import torch
from torch import nn

from ...utils.errors import UserError
from .clip_conversion import StateDict, convert_hf_clip, convert_open_clip
from ..utils.frozen_weights import full_state_dict

SOURCES = ('huggingface', 'open_clip', 'converted')


class CLIPWeightsError(UserError, ValueError):
    """CLIP weights that cannot be used as ``init_cfg`` names them: a bad ``init_cfg``, an
    unreadable file, or weights of another architecture than the config's. A ``ValueError``
    for the code; for the tools, a user's mistake (one ``error:`` line, see
    :mod:`coseg_tools.cli`)."""


def check_weights_source(source: str, checkpoint: str, model_name: Optional[str]) -> None:
    """Refuse a source that names no weights (every reader goes through here).

    Raises:
        CLIPWeightsError: ``source`` is not one of :data:`SOURCES`, ``checkpoint`` is empty, or
            ``source='open_clip'`` comes without ``model_name``.
    """
    if source not in SOURCES:
        raise CLIPWeightsError(f'unknown CLIP weights source {source!r}; expected one of '
                               f'{SOURCES}')
    if not checkpoint:
        raise CLIPWeightsError(f"source={source!r} needs a 'checkpoint'")
    if source == 'open_clip' and not model_name:
        raise CLIPWeightsError("source='open_clip' needs model_name (e.g. 'ViT-B-16')")


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

    Raises:
        CLIPWeightsError: A bad source (:func:`check_weights_source`) or an unreadable file.
    """
    check_weights_source(source, checkpoint, model_name)
    if source == 'huggingface':
        raw, config = load_hf_checkpoint(checkpoint)
        act = config.get('vision_config', {}).get('hidden_act')
        return convert_hf_clip(raw), act
    if source == 'open_clip':
        raw, act = load_open_clip_checkpoint(model_name, checkpoint)
        return convert_open_clip(raw), act
    if not os.path.isfile(checkpoint):  # 'converted'
        raise FileNotFoundError(f'converted CLIP checkpoint {checkpoint!r} does not exist')
    try:
        data = torch.load(checkpoint, map_location='cpu', weights_only=True)
    except Exception as exc:  # not a torch file, truncated, or objects beyond weights
        raise CLIPWeightsError(f'converted CLIP checkpoint {checkpoint!r} cannot be read: '
                               f'{type(exc).__name__}; write it with tools/convert_clipseg.py'
                               ) from exc
    return data.get('state_dict', data), data.get('meta', {}).get('act')


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
