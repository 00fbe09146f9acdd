"""Convert a CLIPSeg checkpoint into the plugin's state dict (``source='converted'``).

Reads the HuggingFace layout (a hub name such as ``CIDAS/clipseg-rd64-refined`` or a
``save_pretrained`` directory) or the original layout of the CLIPSeg authors
(``rd64-uni-refined.pth``, decoder only, or with CLIP under ``model.``), checks the decoder, and
writes ``{'state_dict': ..., 'meta': ...}`` atomically. Use the result with
``init_cfg=dict(type='CLIPPretrained', source='converted', checkpoint=OUT)``.

Usage:
    python tools/convert_clipseg.py SRC OUT [--layout {auto,huggingface,original}] [--debug]

A missing, unreadable or non-CLIPSeg SRC ends with one ``error:`` line and exit status 2.
"""
import argparse
import io
import os

import torch

from coseg_mmseg.models.clip import (check_clipseg_decoder, convert_hf_clip,
                                     convert_original_clipseg, load_hf_checkpoint)
from coseg_mmseg.utils import write_atomically
from coseg_tools.checkpoint_check import explain_load_error
from coseg_tools.cli import UserError, add_debug_argument, run_tool


def convert(src: str, layout: str = 'auto') -> dict:
    """Load ``src`` and return ``{'state_dict': ..., 'meta': ...}`` in our layout."""
    if layout == 'auto':
        layout = 'original' if os.path.isfile(src) else 'huggingface'
    act = None
    if layout == 'huggingface':
        raw, config = load_hf_checkpoint(src)
        state = convert_hf_clip(raw)
        act = config.get('vision_config', {}).get('hidden_act')
    elif layout == 'original':
        if not os.path.isfile(src):
            raise FileNotFoundError(f'CLIPSeg checkpoint {src!r} does not exist')
        try:
            raw = torch.load(src, map_location='cpu', weights_only=True)
        except Exception as exc:
            error = explain_load_error(exc, src, 'CLIPSeg')
            if error is None:
                raise
            raise error from exc
        state = convert_original_clipseg(raw.get('state_dict', raw))
    else:
        raise ValueError(f"--layout must be 'auto', 'huggingface' or 'original', got {layout!r}")
    check_clipseg_decoder(state, origin=f'{layout} checkpoint {src!r}')
    return dict(state_dict=state, meta=dict(source=src, layout=layout, act=act))


def save_atomically(obj: dict, path: str) -> None:
    """``torch.save`` into memory, then an atomic write: never a partial file."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_atomically(buffer.getvalue(), path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='hub name, save_pretrained directory or .pth file')
    parser.add_argument('out', help='output .pth file')
    parser.add_argument('--layout', default='auto', choices=['auto', 'huggingface', 'original'])
    add_debug_argument(parser)
    args = parser.parse_args()
    try:
        result = convert(args.src, args.layout)
    except ValueError as exc:  # the checkpoint's keys or shapes: not a (complete) CLIPSeg
        raise UserError(f'{exc}; give a CLIPSeg checkpoint (--layout {args.layout})') from exc
    save_atomically(result, args.out)
    parts = sorted({k.split('.')[0] for k in result['state_dict']})
    print(f'wrote {args.out}: {len(result["state_dict"])} tensors ({", ".join(parts)})')


if __name__ == '__main__':
    run_tool(main)
