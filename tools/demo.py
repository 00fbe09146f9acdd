"""Segment an image with any words and draw the result.

Usage:
    python tools/demo.py IMAGE --vocab "sky,sea,sand,person" --out out.png
        [--config CONFIG --checkpoint CKPT] [--show-slots] [--device cpu]
        [--legend {all,present}] [--mark-unseen NAMES]

Writes OUT (the image with a coloured overlay and a legend of the given words, at the image's
size), OUT's stem + ``.json`` (the legend and the share of pixels of each word) and, with
``--show-slots``, OUT's stem + ``_slots.png``: each coexistence token's mask with its best
labels. With no ``--config`` the no-training baseline (pretrained CLIP + CLIPSeg) is used.
``--vocab`` takes comma-separated words, a named vocabulary (``voc20``,
``pascal_context_459``, ...) or ``@words.txt``. Images above ``--max-pixels`` (50 megapixels:
a 48-megapixel photo passes, 8000 x 8000 does not) are refused before they are decoded; memory
grows with the image's pixels, not with pixels x words. ``--legend present`` lists only the
words found (a long vocabulary); ``--mark-unseen`` writes "(unseen)" after the given words in
the legend (names the model never trained on: the open world's demo).

A user's mistake (missing or undecodable image, bad vocabulary, missing config or checkpoint, a
checkpoint that does not fit) ends with one ``error:`` line and exit status 2; ``--debug`` (or
``COSEG_DEBUG=1``) shows the traceback.
"""
import argparse
import json
import os

import mmcv
import numpy as np

from coseg_mmseg.apis import (MAX_IMAGE_PIXELS, check_image_size, init_model, parse_vocabulary,
                              segment, slot_predictions)
from coseg_mmseg.visualization import draw_overlay, draw_slots
from coseg_tools.checkpoint_check import check_checkpoint_file, explain_load_error
from coseg_tools.cli import UserError, add_debug_argument, run_tool
from coseg_tools.tool_config import load_config

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, '..', 'configs', 'coseg', 'zero-shot',
                              'coseg_no-train_voc20.py')


def read_image(path: str, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """The image at ``path`` (BGR), or a :class:`UserError` saying why not.

    An image above ``max_pixels`` is refused from its header, before it is decoded.
    """
    if os.path.isdir(path):
        raise UserError(f'image {path!r} is a folder; give one image file')
    if not os.path.isfile(path):
        raise UserError(f'image {path!r} does not exist (working directory: {os.getcwd()})')
    if os.path.getsize(path) == 0:
        raise UserError(f'image {path!r} is empty (0 bytes): an upload or a copy was cut off; '
                        f'give the image file again')
    try:
        check_image_size(path, max_pixels)
    except ValueError as exc:
        raise UserError(f'{exc}, or raise --max-pixels') from None
    try:
        image = mmcv.imread(path)
    except Exception:  # noqa: BLE001  (OpenCV raises cv2.error on some corrupt files)
        image = None
    if image is None:
        raise UserError(f'{path!r} is not an image: it exists but cannot be decoded (truncated, '
                        f'or not a JPEG/PNG/BMP/TIFF/WebP); give an image file')
    return image


def read_vocabulary(text: str) -> tuple:
    """The names of ``--vocab``, or a :class:`UserError` naming what is wrong with it."""
    try:
        return parse_vocabulary(text)
    except (ValueError, TypeError) as exc:
        raise UserError(f'--vocab {text!r}: {exc}') from exc


def load_model(config: str, checkpoint, device: str):
    """``init_model``, with one-line errors for the config and the checkpoint."""
    cfg = load_config(config)
    if checkpoint is not None:
        check_checkpoint_file(checkpoint)
    try:
        return init_model(cfg, checkpoint, device=device)
    except Exception as exc:
        error = None if checkpoint is None else explain_load_error(
            exc, checkpoint, f"the {cfg.model.get('type', 'model')} of {config}")
        if error is None:
            raise
        raise error from exc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('image')
    parser.add_argument('--vocab', required=True,
                        help='"sky,sea,sand", a vocabulary name, or @words.txt')
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='model config (default: the no-training baseline)')
    parser.add_argument('--checkpoint', help='checkpoint; none for the no-training baseline')
    parser.add_argument('--out', default='demo.png')
    parser.add_argument('--show-slots', action='store_true',
                        help="also draw each coexistence token's mask and labels")
    parser.add_argument('--opacity', type=float, default=0.5)
    parser.add_argument('--legend', choices=['all', 'present'], default='all',
                        help='list every word of --vocab (default) or only those found')
    parser.add_argument('--mark-unseen', metavar='NAMES',
                        help='words of --vocab to mark "(unseen)" in the legend (same forms '
                             'as --vocab)')
    parser.add_argument('--max-pixels', type=int, default=MAX_IMAGE_PIXELS,
                        help='refuse larger images (height x width; default %(default)s)')
    parser.add_argument('--device', default='cpu')
    add_debug_argument(parser)
    args = parser.parse_args()

    names = read_vocabulary(args.vocab)
    unseen = read_vocabulary(args.mark_unseen) if args.mark_unseen else ()
    stray = [n for n in unseen if n not in names]
    if stray:
        raise UserError(f'--mark-unseen names {stray[:3]}, which --vocab does not hold; mark '
                        f'words of --vocab only')
    image = read_image(args.image, args.max_pixels)  # BGR
    model = load_model(args.config, args.checkpoint, args.device)
    unlabeled = getattr(model, 'unlabeled_name', 'unlabeled')
    if unlabeled in names:
        raise UserError(f'--vocab {args.vocab!r} names {unlabeled!r}, the model\'s own name '
                        f'for pixels of no class; leave it out (such pixels get no label)')
    result = segment(model, image, names, max_pixels=None)  # checked by read_image

    rgb = mmcv.bgr2rgb(image)
    shares = result.present()
    drawn = draw_overlay(rgb, result.label_map, names, shares, opacity=args.opacity,
                         present_only=args.legend == 'present',
                         notes={n: '(unseen)' for n in unseen})
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    mmcv.imwrite(mmcv.rgb2bgr(drawn), args.out)
    stem = os.path.splitext(args.out)[0]
    with open(stem + '.json', 'w') as f:
        json.dump(dict(image=args.image, legend=list(names), present=shares,
                       unseen=list(unseen)), f, indent=1)
    print(f'legend: {", ".join(names)}')
    found = [f'{k} {100 * v:.1f}%' + (' (unseen)' if k in unseen else '')
             for k, v in shares.items()]
    print(f'present: {", ".join(found) or "none"}')
    print(f'wrote {args.out}')
    if args.show_slots:
        draw_slots(rgb, slot_predictions(model, image, names), stem + '_slots.png')
        print(f'wrote {stem}_slots.png')


if __name__ == '__main__':
    run_tool(main)
