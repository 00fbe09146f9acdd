"""A web page to segment images with any words (gradio), on this machine only by default.

Usage:
    python tools/web_demo.py [--config CONFIG --checkpoint CKPT] [--vocab WORDS]
        [--examples IMG ...] [--port 7860] [--host 127.0.0.1] [--device cpu]

Open http://127.0.0.1:7860: upload or pick an image, type comma-separated words or choose a
named vocabulary (voc20, coco_stuff, ...; the page reads no files: ``@file.txt`` is for
``--vocab`` only), press Segment; the page shows the coloured overlay
with its legend, each class's share of the image, and what each coexistence slot found. With
no ``--config`` the no-training baseline (pretrained CLIP + CLIPSeg) is used. Needs gradio
(requirements/optional.txt). Limits per request (coseg_mmseg.visualization.web_app): uploads of
25 MB, images of 50 megapixels, shrunk to 2048 pixels on the longer side before segmenting.
"""
import argparse
import os

from coseg_mmseg.apis import init_model, parse_vocabulary
from coseg_mmseg.datasets.vocabularies import VOCABULARIES
from coseg_tools.cli import UserError, add_debug_argument, run_tool

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, '..', 'configs', 'coseg', 'zero-shot',
                              'coseg_no-train_voc20.py')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='model config (default: the no-training baseline)')
    parser.add_argument('--checkpoint', help='checkpoint; none for the no-training baseline')
    parser.add_argument('--vocab', default='', help='vocabulary filled in at start')
    parser.add_argument('--examples', nargs='*', default=[], help='example images')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to serve on (0.0.0.0 exposes it to the network)')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument('--device', default='cpu')
    add_debug_argument(parser)
    args = parser.parse_args()
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise UserError('the web demo needs gradio: pip install -r requirements/optional.txt')
    for path in args.examples:
        if not os.path.isfile(path):
            raise UserError(f'example image {path!r} does not exist')
    vocabulary = ''
    if args.vocab:  # the operator's own words or file: shown in the page's box as words
        try:
            names = parse_vocabulary(args.vocab)
            vocabulary = args.vocab.strip() if args.vocab.strip() in VOCABULARIES else ', '.join(
                names)
        except (ValueError, TypeError, FileNotFoundError) as error:
            raise UserError(f'--vocab {args.vocab!r}: {error}') from error
    from coseg_mmseg.visualization.web_app import build_app, launch
    model = init_model(args.config, args.checkpoint, device=args.device)
    app = build_app(model, examples=args.examples, vocabulary=vocabulary,
                    preview=True)
    launch(app, host=args.host, port=args.port)


if __name__ == '__main__':
    run_tool(main)
