"""Load CLIP (and CLIPSeg) weights from HuggingFace, open_clip or a converted file.

Architecture and weights are separate, as in open_clip: the modules are built from the config,
and ``init_weights`` asks this module for a state dict in our layout::

    visual.{conv1, class_embedding, positional_embedding, ln_pre, transformer.resblocks.N.*,
            ln_post, proj}
    text.{token_embedding, positional_embedding, transformer.resblocks.N.*, ln_final,
          text_projection}
    decoder.*        (CLIPSeg checkpoints only; HuggingFace's decoder names, unchanged)

Sources (``source=``):
    ``'huggingface'``: a hub name (``openai/clip-vit-base-patch16``,
        ``CIDAS/clipseg-rd64-refined``) or a local ``save_pretrained`` directory.
    ``'open_clip'``: ``model_name`` (``'ViT-B-16'``) plus a pretrained tag (``'openai'``) or a
        local checkpoint file.
    ``'converted'``: a file holding a state dict in our layout (``tools/convert_clip.py``).
"""
import json
import os
import re
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor, nn

from ..utils.frozen_weights import full_state_dict

StateDict = Dict[str, Tensor]
SOURCES = ('huggingface', 'open_clip', 'converted')

_HF_BLOCK_RENAMES = {
    'layer_norm1': 'ln_1', 'layer_norm2': 'ln_2', 'mlp.fc1': 'mlp.c_fc', 'mlp.fc2': 'mlp.c_proj',
    'self_attn.out_proj': 'attn.out_proj',
}
_HF_RENAMES = {
    'vision_model.embeddings.class_embedding': 'visual.class_embedding',
    'vision_model.embeddings.patch_embedding.weight': 'visual.conv1.weight',
    'vision_model.embeddings.position_embedding.weight': 'visual.positional_embedding',
    'vision_model.pre_layrnorm': 'visual.ln_pre',
    'vision_model.post_layernorm': 'visual.ln_post',
    'text_model.embeddings.token_embedding': 'text.token_embedding',
    'text_model.embeddings.position_embedding.weight': 'text.positional_embedding',
    'text_model.final_layer_norm': 'text.ln_final',
}


def convert_hf_clip(state_dict: StateDict) -> StateDict:
    """Map a HuggingFace ``CLIPModel`` or ``CLIPSegForImageSegmentation`` state dict to ours.

    q/k/v projections are packed into ``in_proj_*``; projections are transposed.
    """
    clip_prefix = 'clip.' if any(k.startswith('clip.vision_model.') for k in state_dict) else ''
    out: StateDict = {}
    qkv: Dict[str, Dict[str, Tensor]] = {}
    for key, value in state_dict.items():
        if key.startswith('decoder.'):
            out[key] = value
            continue
        if not key.startswith(clip_prefix):
            continue
        key = key[len(clip_prefix):]
        if key in ('visual_projection.weight', 'text_projection.weight'):
            out['visual.proj' if key.startswith('visual') else 'text.text_projection'] = value.t()
            continue
        match = re.match(r'(vision|text)_model\.encoder\.layers\.(\d+)\.(.+)', key)
        if match:
            tower = 'visual' if match[1] == 'vision' else 'text'
            block, rest = f'{tower}.transformer.resblocks.{match[2]}', match[3]
            qkv_match = re.match(r'self_attn\.([qkv])_proj\.(weight|bias)', rest)
            if qkv_match:
                qkv.setdefault(f'{block}.attn.in_proj_{qkv_match[2]}', {})[qkv_match[1]] = value
                continue
            for old, new in _HF_BLOCK_RENAMES.items():
                rest = rest.replace(old, new)
            out[f'{block}.{rest}'] = value
            continue
        for old, new in _HF_RENAMES.items():
            if key.startswith(old):
                out[new + key[len(old):]] = value
                break
    for key, parts in qkv.items():
        out[key] = torch.cat([parts['q'], parts['k'], parts['v']])
    return out


def convert_open_clip(state_dict: StateDict) -> StateDict:
    """Map an open_clip ``CLIP`` state dict to ours (only the text tower is renamed)."""
    out: StateDict = {}
    for key, value in state_dict.items():
        if key.startswith('visual.'):
            out[key] = value
        elif key.split('.')[0] in ('token_embedding', 'positional_embedding', 'transformer',
                                   'ln_final', 'text_projection'):
            out['text.' + key] = value
    return out


_ORIGINAL_DECODER_RENAMES = {
    'trans_conv': 'transposed_convolution', 'blocks': 'layers', 'linear1': 'mlp.fc1',
    'linear2': 'mlp.fc2', 'norm1': 'layer_norm1', 'norm2': 'layer_norm2',
}


def convert_original_clipseg(state_dict: StateDict) -> StateDict:
    """Map a checkpoint of the CLIPSeg authors (``rd64-uni-refined.pth``) to our layout.

    Its decoder keys (``film_mul``, ``reduces.N``, ``blocks.N`` as ``nn.TransformerEncoderLayer``,
    ``trans_conv``) become HuggingFace's ``decoder.*`` names, packed attention projections are
    split into q/k/v; CLIP weights stored under ``model.`` (OpenAI's layout), if any, become
    ``visual.*``/``text.*``; the unused ``reduce.*`` is dropped.

    Raises:
        ValueError: A key that belongs to no known part.
    """
    out = convert_open_clip({k[len('model.'):]: v for k, v in state_dict.items()
                             if k.startswith('model.')})
    unknown = []
    for key, value in state_dict.items():
        head = key.split('.')[0]
        if head in ('model', 'reduce'):
            continue
        if head not in ('film_mul', 'film_add', 'reduces', 'trans_conv', 'blocks'):
            unknown.append(key)
            continue
        match = re.match(r'blocks\.(\d+)\.self_attn\.in_proj_(weight|bias)', key)
        if match:
            for name, part in zip('qkv', value.chunk(3)):
                out[f'decoder.layers.{match[1]}.self_attn.{name}_proj.{match[2]}'] = part
            continue
        parts = key.split('.')
        out['decoder.' + '.'.join(_ORIGINAL_DECODER_RENAMES.get(p, p) for p in parts)] = value
    if unknown:
        raise ValueError(f'not a CLIPSeg checkpoint of the original layout: unknown keys '
                         f'{unknown[:5]}' + (' ...' if len(unknown) > 5 else ''))
    return out


def check_clipseg_decoder(state_dict: StateDict, origin: str) -> None:
    """Check that ``decoder.*`` holds a complete, self-consistent CLIPSeg decoder.

    Raises:
        ValueError: Naming the first missing key or the first wrongly shaped one.
    """
    def need(key: str) -> Tensor:
        if key not in state_dict:
            raise ValueError(f'{origin} lacks {key!r}: not a complete CLIPSeg decoder')
        return state_dict[key]

    film = need('decoder.film_mul.weight')
    rd, cond = film.shape
    expected = {'decoder.film_add.weight': (rd, cond)}
    depth = len({k.split('.')[2] for k in state_dict if k.startswith('decoder.reduces.')})
    if depth == 0:
        need('decoder.reduces.0.weight')
    width = need('decoder.reduces.0.weight').shape[1]
    for i in range(depth):
        expected[f'decoder.reduces.{i}.weight'] = (rd, width)
        for proj in 'qkvo':
            name = 'out_proj' if proj == 'o' else f'{proj}_proj'
            expected[f'decoder.layers.{i}.self_attn.{name}.weight'] = (rd, rd)
        expected[f'decoder.layers.{i}.layer_norm1.weight'] = (rd, )
        expected[f'decoder.layers.{i}.layer_norm2.weight'] = (rd, )
        expected[f'decoder.layers.{i}.mlp.fc1.weight'] = (
            need(f'decoder.layers.{i}.mlp.fc1.weight').shape[0], rd)
    if 'decoder.transposed_convolution.weight' not in state_dict:
        expected['decoder.transposed_convolution.0.weight'] = (rd, rd, 3, 3)
        expected['decoder.transposed_convolution.2.weight'] = (
            rd, rd // 2) + tuple(need('decoder.transposed_convolution.2.weight').shape[2:])
    for key, shape in expected.items():
        if tuple(need(key).shape) != tuple(shape):
            raise ValueError(f'{origin}: {key!r} has shape {tuple(state_dict[key].shape)}, '
                             f'expected {tuple(shape)} (reduce_dim={rd}, cond_dim={cond})')


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
            raise ValueError("source='open_clip' needs model_name (e.g. 'ViT-B-16')")
        raw, act = load_open_clip_checkpoint(model_name, checkpoint)
        return convert_open_clip(raw), act
    if source == 'converted':
        if not os.path.isfile(checkpoint):
            raise FileNotFoundError(f'converted CLIP checkpoint {checkpoint!r} does not exist')
        data = torch.load(checkpoint, map_location='cpu', weights_only=True)
        return data.get('state_dict', data), data.get('meta', {}).get('act')
    raise ValueError(f'unknown CLIP weights source {source!r}; expected one of {SOURCES}')


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
        raise ValueError(f'weights from {origin} do not fit {type(module).__name__} '
                         f'(prefix {prefix!r}): ' + '; '.join(details))
    module.load_state_dict(part)


def load_pretrained(init_cfg: dict, *, act: Optional[str] = None) -> Tuple[StateDict, str]:
    """Resolve ``init_cfg=dict(type='Pretrained', source=..., checkpoint=..., model_name=...)``.

    Args:
        init_cfg: The module's ``init_cfg``.
        act: The activation the module was built with; weights trained with another one are
            refused (OpenAI's CLIP needs ``'quick_gelu'``). ``None`` skips the check.

    Returns:
        The state dict in our layout and a description of its origin for messages.
    """
    source = init_cfg.get('source', 'huggingface')
    checkpoint = init_cfg.get('checkpoint')
    if not checkpoint:
        raise ValueError(f"init_cfg {init_cfg} of type 'Pretrained' needs a 'checkpoint'")
    origin = f"{source} checkpoint {checkpoint!r}" + (
        f" (model_name={init_cfg['model_name']!r})" if init_cfg.get('model_name') else '')
    state_dict, trained_act = load_clip_weights(
        source=source, checkpoint=checkpoint, model_name=init_cfg.get('model_name'))
    if None not in (act, trained_act) and trained_act != act:
        raise ValueError(f"{origin} was trained with activation {trained_act!r} but the model "
                         f"is configured with act={act!r}; set act={trained_act!r}")
    return state_dict, origin
