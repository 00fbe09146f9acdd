"""Map CLIP and CLIPSeg state dicts of other layouts to the plugin's layout, and check them.

The plugin's layout (what :class:`CLIPVisionTower`, :class:`CLIPTextTower` and
:class:`FiLMCLIPSegHead` hold, under these prefixes)::

    visual.{conv1, class_embedding, positional_embedding, ln_pre, transformer.resblocks.N.*,
            ln_post, proj}
    text.{token_embedding, positional_embedding, transformer.resblocks.N.*, ln_final,
          text_projection}
    decoder.*        (CLIPSeg checkpoints only; HuggingFace's decoder names, unchanged)

Pure functions of state dicts: reading files and the hub is :mod:`.clip_loading`'s job.
"""
import re
from typing import Dict

import torch
from torch import Tensor

StateDict = Dict[str, Tensor]

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
