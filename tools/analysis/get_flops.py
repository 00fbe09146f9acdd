"""FLOPs of one inference of a config's model (what mmseg's get_flops.py would print).

mmseg 1.2.2's ``tools/analysis_tools/get_flops.py`` stops on every model, mmseg's own included,
with mmengine 0.10.7 ("input_shape" and "inputs" cannot be both set). This counts with torch's
``FlopCounterMode`` instead (a multiply-add is 2 FLOPs; attention counted on CPU too), on random
weights: nothing is downloaded.

Usage:
    python tools/analysis/get_flops.py CONFIG [--shape H W] [--vocab coco_stuff] [--debug]
"""
import argparse

import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import coseg_mmseg  # noqa: F401  (registers the components)
from coseg_tools.benchmarking import count_flops
from coseg_tools.cli import add_debug_argument, run_tool
from coseg_tools.tool_config import load_config

FROZEN_PARTS = ('backbone', 'rank_backbone', 'text_encoder', 'cond_text_encoder', 'decode_head')


def inference_flops(cfg, shape, vocabulary) -> dict:
    """FLOPs of the whole inference and of the backbone alone, on one (3, H, W) image."""
    for part in FROZEN_PARTS:  # random weights: the count does not depend on them
        if isinstance(cfg.model.get(part), dict):
            cfg.model[part]['init_cfg'] = None
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model).eval()
    if vocabulary:
        model.set_vocabulary(vocabulary)
    image = torch.randn(1, 3, *shape)
    with torch.no_grad():
        model.vocabulary_embeddings('test')  # the text encoder runs once per vocabulary
        total = count_flops(lambda: model.predict(image))
        backbone = count_flops(lambda: model.backbone(image))
    return dict(total=total, backbone=backbone)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs=2, default=(224, 224), metavar=('H', 'W'))
    parser.add_argument('--vocab', default=None,
                        help="test vocabulary (default: the config's); e.g. coco_stuff")
    add_debug_argument(parser)
    args = parser.parse_args()
    flops = inference_flops(load_config(args.config), args.shape, args.vocab)
    print(f'input shape: (1, 3, {args.shape[0]}, {args.shape[1]})')
    print(f"inference GFLOPs: {flops['total'] / 1e9:.2f}")
    print(f"backbone GFLOPs: {flops['backbone'] / 1e9:.2f}")


if __name__ == '__main__':
    run_tool(main)
