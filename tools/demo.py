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

A user's mistake (missing or undecodable image, bad vocabulary, missing config or checkpoint, a
checkpoint that does not fit) ends with one ``error:`` line and exit status 2; ``--debug`` (or
``COSEG_DEBUG=1``) shows the traceback.
"""
import argparse
import colorsys
import json
import os
from typing import List, Sequence, Tuple

import cv2
import mmcv
import numpy as np
from mmengine.structures import PixelData
from mmseg.visualization import SegLocalVisualizer

from coseg_mmseg.apis import init_model, parse_vocabulary, segment, slot_predictions
from coseg_mmseg.utils import (UserError, add_debug_argument, check_checkpoint_file,
                               explain_load_error, load_config, run_tool)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, '..', 'configs', 'coseg', 'zero-shot',
                              'coseg_no-train_voc20.py')


def palette(count: int) -> List[Tuple[int, int, int]]:
    """``count`` well-separated RGB colours (golden-ratio hues), the same on every run."""
    colours = []
    for i in range(count):
        r, g, b = colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.65, 0.95)
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    return colours


def draw_legend(image: np.ndarray, names: Sequence[str], colours: Sequence[tuple],
                shares: dict) -> np.ndarray:
    """Draw a legend box (colour, word, share of pixels) in the top-left corner, in place.

    Args:
        image: (H, W, 3) RGB uint8.
        names: Every word of the vocabulary, in index order.
        colours: Their RGB colours.
        shares: word -> fraction of pixels (words absent from the picture are shown greyed).
    """
    scale = max(0.35, min(image.shape[:2]) / 900)
    line = int(26 * scale / 0.6)
    rows = [f'{n} {100 * shares[n]:.0f}%' if n in shares else n for n in names]
    width = max(cv2.getTextSize(r, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] for r in rows)
    box_w, box_h = min(image.shape[1], width + line + 12), min(image.shape[0],
                                                               line * len(rows) + 8)
    panel = image[:box_h, :box_w]
    panel[:] = (panel * 0.35).astype(np.uint8)
    for i, (row, name, colour) in enumerate(zip(rows, names, colours)):
        y = 4 + i * line
        if y + line > image.shape[0]:
            break
        cv2.rectangle(image, (4, y + 2), (4 + line - 6, y + line - 4), colour, -1)
        text_colour = (255, 255, 255) if name in shares else (150, 150, 150)
        cv2.putText(image, row, (line + 2, y + line - 7), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    text_colour, 1, cv2.LINE_AA)
    return image


def draw_slots(image_rgb: np.ndarray, slots: list, path: str) -> None:
    """One panel per slot: the image, the slot's mask over it, its best labels."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    cols = min(5, len(slots))
    rows = (len(slots) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis('off')
    for n, (ax, slot) in enumerate(zip(axes.flat, slots)):
        mask = cv2.resize(slot['mask'], image_rgb.shape[1::-1], interpolation=cv2.INTER_LINEAR)
        ax.imshow(image_rgb)
        ax.imshow(mask, cmap='magma', alpha=0.6, vmin=0, vmax=1)
        ax.set_title(f'slot {n}\n' + '\n'.join(f'{name} {score:.2f}'
                                                for name, score in slot['labels']), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def read_image(path: str) -> np.ndarray:
    """The image at ``path`` (BGR), or a :class:`UserError` saying why not."""
    if os.path.isdir(path):
        raise UserError(f'image {path!r} is a folder; give one image file')
    if not os.path.isfile(path):
        raise UserError(f'image {path!r} does not exist (working directory: {os.getcwd()})')
    image = mmcv.imread(path)
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
    parser.add_argument('--device', default='cpu')
    add_debug_argument(parser)
    args = parser.parse_args()

    names = read_vocabulary(args.vocab)
    image = read_image(args.image)  # BGR
    model = load_model(args.config, args.checkpoint, args.device)
    unlabeled = getattr(model, 'unlabeled_name', 'unlabeled')
    if unlabeled in names:
        raise UserError(f'--vocab {args.vocab!r} names {unlabeled!r}, the model\'s own name '
                        f'for pixels of no class; leave it out (such pixels get no label)')
    result = segment(model, image, names)
    colours = palette(len(names))

    rgb = mmcv.bgr2rgb(image)
    visualizer = SegLocalVisualizer(alpha=args.opacity)
    drawn = visualizer._draw_sem_seg(rgb.copy(), PixelData(data=result.label_map[None]),
                                     list(names), colours, with_labels=False)
    shares = result.present()
    drawn = draw_legend(np.ascontiguousarray(drawn), names, colours, shares)
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
    run_tool(main)
