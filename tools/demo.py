"""Segment an image with any words and draw the result.

Usage:
    python tools/demo.py IMAGE --vocab "sky,sea,sand,person" --out out.png
        [--config CONFIG --checkpoint CKPT] [--show-slots] [--device cpu]

Writes OUT (the image with a coloured overlay and a legend of the given words, at the image's
size), OUT's stem + ``.json`` (the legend and the share of pixels of each word) and, with
``--show-slots``, OUT's stem + ``_slots.png``: each coexistence token's mask with its best
labels. With no ``--config`` the no-training baseline (pretrained CLIP + CLIPSeg) is used.
``--vocab`` takes comma-separated words, a named vocabulary (``voc20``,
``pascal_context_459``, ...) or ``@words.txt``.
"""
import argparse
import json
import os

import mmcv

from coseg_mmseg.apis import init_model, parse_vocabulary, segment, slot_predictions
from coseg_mmseg.visualization import draw_overlay, draw_slots

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, '..', 'configs', 'coseg', 'zero-shot',
                              'coseg_no-train_voc20.py')


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
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()

    names = parse_vocabulary(args.vocab)
    image = mmcv.imread(args.image)  # BGR
    if image is None:
        raise FileNotFoundError(f'cannot read image {args.image!r}')
    model = init_model(args.config, args.checkpoint, device=args.device)
    result = segment(model, image, names)

    rgb = mmcv.bgr2rgb(image)
    shares = result.present()
    drawn = draw_overlay(rgb, result.label_map, names, shares, opacity=args.opacity)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    mmcv.imwrite(mmcv.rgb2bgr(drawn), args.out)
    stem = os.path.splitext(args.out)[0]
    with open(stem + '.json', 'w') as f:
        json.dump(dict(image=args.image, legend=list(names), present=shares), f, indent=1)
    print(f'legend: {", ".join(names)}')
    print(f'present: {", ".join(f"{k} {100 * v:.1f}%" for k, v in shares.items()) or "none"}')
    print(f'wrote {args.out}')
    if args.show_slots:
        draw_slots(rgb, slot_predictions(model, image, names), stem + '_slots.png')
        print(f'wrote {stem}_slots.png')


if __name__ == '__main__':
    main()
