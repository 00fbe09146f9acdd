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
import sys
import traceback
from typing import Optional, Sequence, Tuple

import numpy as np
import torch

from coseg_mmseg.apis import init_model, parse_vocabulary
from coseg_mmseg.deploy import CoSegScoresGraph, check_size, export_onnx, vocabulary_embeddings


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
    parser.add_argument('--debug', action='store_true', help='show tracebacks of errors')
    return parser.parse_args(argv)


def default_vocabulary(model: torch.nn.Module, checkpoint: str) -> Tuple[str, ...]:
    """The checkpoint's dataset classes, else the config's test vocabulary."""
    meta = torch.load(checkpoint, map_location='cpu', weights_only=False).get('meta') or {}
    classes = (meta.get('dataset_meta') or {}).get('classes')
    if classes:
        return tuple(classes)
    if model.vocabulary.get('test'):
        return tuple(model.vocabulary['test'])
    raise ValueError(f"checkpoint {checkpoint!r} names no dataset classes and the config sets "
                     f'no model.test_vocabulary: give --vocab "word,word,..." (or a '
                     f'vocabulary name)')


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
    for what, path in (('config', args.config), ('checkpoint', args.checkpoint)):
        if not os.path.isfile(path):
            raise FileNotFoundError(f'{what} {path!r} does not exist')
    model = init_model(args.config, args.checkpoint, device='cpu')
    if not hasattr(model, 'neck') or model.neck is None or type(model).__name__ != 'CoSeg':
        raise ValueError(f'{args.config}: only CoSeg models (prefix or xatten neck) export; '
                         f'this one is {type(model).__name__}')
    names = (parse_vocabulary(args.vocab) if args.vocab
             else default_vocabulary(model, args.checkpoint))
    vocab_embeds = vocabulary_embeddings(model, names)  # (K + 1, D)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez(vocab_path(args.out), names=np.array(names + (model.unlabeled_name, )),
             vocab_embeds=vocab_embeds.numpy())
    print(f'wrote {vocab_path(args.out)}: {len(names)} names + {model.unlabeled_name!r}, '
          f'embeddings {tuple(vocab_embeds.shape)}')
    if args.embeddings_only:
        return
    size = check_size(CoSegScoresGraph(model), args.size)
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
    try:
        main()
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        if '--debug' in sys.argv[1:]:
            traceback.print_exc()
        print(f'error: {error}', file=sys.stderr)
        sys.exit(2)
