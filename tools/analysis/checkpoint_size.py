"""Print the size of a training checkpoint of a config: frozen CLIP as a reference vs copied.

Builds the model at its real size with random weights (nothing is downloaded), takes one
optimizer step so Adam's state exists, and serialises what mmengine's CheckpointHook saves
(state_dict + optimizer) both ways.

Usage: python tools/analysis/checkpoint_size.py CONFIG
"""
import argparse
import io

import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import coseg_mmseg  # noqa: F401
from coseg_tools.cli import add_debug_argument, run_tool
from coseg_tools.tool_config import load_config


def serialized_mb(obj) -> float:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.tell() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    add_debug_argument(parser)
    args = parser.parse_args()
    cfg = load_config(args.config)
    init_default_scope('mmseg')
    sizes = {}
    for copy in (False, True):
        torch.manual_seed(0)
        model = MODELS.build(dict(cfg.model, save_frozen_weights=copy))
        optim = build_optim_wrapper(model, cfg.optim_wrapper)
        for p in model.parameters():
            if p.requires_grad:
                p.grad = torch.zeros_like(p)
        optim.step()
        sizes[copy] = dict(state_dict=serialized_mb(model.state_dict()),
                           optimizer=serialized_mb(optim.state_dict()))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    print(f'trainable_params: {trainable}')
    print(f'frozen_params: {frozen}')
    for copy, name in ((False, 'reference'), (True, 'copy')):
        total = sizes[copy]['state_dict'] + sizes[copy]['optimizer']
        print(f'checkpoint_mb_frozen_as_{name}: {total:.1f} '
              f'(state_dict {sizes[copy]["state_dict"]:.1f} + optimizer '
              f'{sizes[copy]["optimizer"]:.1f})')


if __name__ == '__main__':
    run_tool(main)
