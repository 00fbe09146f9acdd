"""Export a CoSeg checkpoint's image -> per-class scores graph to ONNX.

Usage:
    python tools/export_onnx.py CONFIG CHECKPOINT OUT.onnx [--vocab WORDS] [--size H W]
        [--batch B] [--embeddings-only] [--no-check] [--debug]

Writes OUT.onnx (inputs ``image`` (B, 3, H, W) RGB 0..255 and ``vocab_embeds`` (K + 1, D);
outputs ``scores`` (B, K, H, W), ``mask_logits`` and ``slot_classes``; batch, image size and
vocabulary size are dynamic) and OUT's stem + ``.vocab.npz``: the vocabulary's ``names`` and
its ``vocab_embeds``, ready to feed. ``--embeddings-only`` writes only the ``.vocab.npz`` (the
embeddings of another vocabulary for a graph exported before). Unless ``--no-check``,
onnxruntime runs the file and its outputs are compared with PyTorch's. See
docs/deployment.md.
"""
import argparse
import os
from typing import Optional, Sequence, Tuple

import numpy as np
import torch

from coseg_mmseg.apis import init_model, parse_vocabulary
from coseg_mmseg.deploy import CoSegScoresGraph, check_size, export_onnx, vocabulary_embeddings
from coseg_tools.checkpoint_check import check_checkpoint_file, explain_load_error
from coseg_tools.cli import UserError, add_debug_argument, run_tool
from coseg_tools.tool_config import load_config


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out', help='the .onnx file to write')
    parser.add_argument('--vocab', help='"sky,sea,sand", a vocabulary name, or @words.txt '
                        "(default: the checkpoint's dataset classes, else the config's "
                        'test_vocabulary)')
    parser.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'), default=(224, 224),
                        help='example image size (multiples of the patch size); the graph '
                        'accepts any such size')
    parser.add_argument('--batch', type=int, default=1, help='example batch size')
    parser.add_argument('--embeddings-only', action='store_true',
                        help="write only OUT's .vocab.npz, not the graph")
    parser.add_argument('--no-check', action='store_true',
                        help='skip the onnxruntime vs PyTorch comparison')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def default_vocabulary(model: torch.nn.Module, checkpoint: str) -> Tuple[str, ...]:
    """The checkpoint's dataset classes, else the config's test vocabulary.

    The classes come from ``model.checkpoint_meta``, kept by ``init_model`` from its one
    weights-only load of the file: the checkpoint is never read a second time (a file swapped
    in between would be read without the allow-list's protection otherwise).
    """
    meta = getattr(model, 'checkpoint_meta', None) or {}
    dataset_meta = meta.get('dataset_meta') if isinstance(meta, dict) else None
    classes = dataset_meta.get('classes') if isinstance(dataset_meta, dict) else None
    if classes:
        try:
            return parse_vocabulary(list(classes))
        except (TypeError, ValueError) as exc:
            raise UserError(f"checkpoint {checkpoint!r}: its meta['dataset_meta']['classes'] "
                            f'is no vocabulary ({exc}); give --vocab "word,word,..."') from exc
    if model.vocabulary.get('test'):
        return tuple(model.vocabulary['test'])
    raise UserError(f"checkpoint {checkpoint!r} names no dataset classes and the config sets "
                    f'no model.test_vocabulary: give --vocab "word,word,..." (or a '
                    f'vocabulary name)')


def load_model(config: str, checkpoint: str) -> torch.nn.Module:
    """``init_model`` on CPU, with one-line errors for the config and the checkpoint."""
    cfg = load_config(config)
    check_checkpoint_file(checkpoint)
    try:
        return init_model(cfg, checkpoint, device='cpu')
    except Exception as exc:
        error = explain_load_error(exc, checkpoint, f"the {cfg.model.get('type', 'model')} "
                                   f'of {config}')
        if error is None:
            raise
        raise error from exc


def vocab_path(out: str) -> str:
    """``x.onnx`` -> ``x.vocab.npz``."""
    return os.path.splitext(out)[0] + '.vocab.npz'


def check_with_onnxruntime(model: torch.nn.Module, path: str, vocab_embeds: torch.Tensor,
                           size: Tuple[int, int], batch: int) -> float:
    """Largest absolute difference of onnxruntime's outputs from PyTorch's on random images."""
    import onnxruntime as ort
    graph = CoSegScoresGraph(model).eval()
    image = torch.rand(batch, 3, *size, generator=torch.Generator().manual_seed(1)) * 255
    with torch.no_grad():
        expected = graph(image, vocab_embeds)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    got = session.run(None, dict(image=image.numpy(), vocab_embeds=vocab_embeds.numpy()))
    return max(float(np.abs(g.astype(np.float64) - e.double().numpy()).max())
               for g, e in zip(got, expected))


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.vocab:
        try:
            names = parse_vocabulary(args.vocab)
        except (TypeError, ValueError) as exc:
            raise UserError(f'--vocab {args.vocab!r}: {exc}') from exc
    model = load_model(args.config, args.checkpoint)
    if not hasattr(model, 'neck') or model.neck is None or type(model).__name__ != 'CoSeg':
        raise UserError(f'{args.config}: only CoSeg models (prefix or xatten neck) export; '
                        f'this one is {type(model).__name__}')
    if not args.vocab:
        names = default_vocabulary(model, args.checkpoint)
    vocab_embeds = vocabulary_embeddings(model, names)  # (K + 1, D)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez(vocab_path(args.out), names=np.array(names + (model.unlabeled_name, )),
             vocab_embeds=vocab_embeds.numpy())
    print(f'wrote {vocab_path(args.out)}: {len(names)} names + {model.unlabeled_name!r}, '
          f'embeddings {tuple(vocab_embeds.shape)}')
    if args.embeddings_only:
        return
    try:
        size = check_size(CoSegScoresGraph(model), args.size)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    export_onnx(model, args.out, vocab_embeds, size=size, names=names, batch=args.batch)
    print(f'wrote {args.out} ({os.path.getsize(args.out) / 2**20:.1f} MiB)')
    if not args.no_check:
        diff = check_with_onnxruntime(model, args.out, vocab_embeds, size, args.batch)
        print(f'onnxruntime vs PyTorch at {size[0]}x{size[1]}, batch {args.batch}: '
              f'max abs difference {diff:.3g}')
        if diff > 1e-4:
            raise RuntimeError(f'{args.out}: onnxruntime differs from PyTorch by {diff:.3g} '
                               f'(> 1e-4); please report it')


if __name__ == '__main__':
    run_tool(main)
