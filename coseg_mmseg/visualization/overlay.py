"""Drawing a segmentation for people: coloured overlay, legend with shares, slot panels.

Used by ``tools/demo.py`` (files) and the web demo (:mod:`coseg_mmseg.visualization.web_app`).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..utils.palette import palette


def draw_legend(image: np.ndarray, names: Sequence[str], colours: Sequence[tuple],
                shares: dict, *, present_only: bool = False,
                notes: Optional[Dict[str, str]] = None) -> np.ndarray:
    """Draw a legend box (colour, word, share of pixels) in the top-left corner, in place.

    Args:
        image: (H, W, 3) RGB uint8.
        names: Every word of the vocabulary, in index order.
        colours: Their RGB colours.
        shares: word -> fraction of pixels (words absent from the picture are shown greyed).
        present_only: List only the words of ``shares`` (a long vocabulary).
        notes: word -> text written after it (e.g. ``'(unseen)'``).
    """
    scale = max(0.35, min(image.shape[:2]) / 900)
    line = int(26 * scale / 0.6)
    notes = notes or {}
    if present_only:
        kept = [i for i, n in enumerate(names) if n in shares]
        names, colours = [names[i] for i in kept], [colours[i] for i in kept]
    rows = [(f'{n} {100 * shares[n]:.0f}%' if n in shares else n)
            + (f' {notes[n]}' if n in notes else '') for n in names]
    if not rows:
        return image
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


def draw_overlay(image_rgb: np.ndarray, label_map: np.ndarray, names: Sequence[str],
                 shares: Dict[str, float], *, opacity: float = 0.5, present_only: bool = False,
                 notes: Optional[Dict[str, str]] = None) -> np.ndarray:
    """The image with each class's pixels tinted in its colour and the legend drawn.

    mmseg's ``SegLocalVisualizer`` blends the colours; unlabelled pixels (any id outside
    ``0..K-1``) stay as they are.

    Args:
        image_rgb: (H, W, 3) RGB uint8.
        label_map: (H, W) class ids into ``names``.
        names: The K class names.
        shares: name -> fraction of pixels, for the legend (``SegmentationResult.present()``).
        opacity: Weight of the class colours.
        present_only: The legend lists only the names present (see :func:`draw_legend`).
        notes: name -> text written after it in the legend.

    Returns:
        A new (H, W, 3) RGB uint8 image.
    """
    from mmengine.structures import PixelData
    from mmseg.visualization import SegLocalVisualizer
    colours = palette(len(names))
    visualizer = SegLocalVisualizer(alpha=opacity)
    drawn = visualizer._draw_sem_seg(image_rgb.copy(), PixelData(data=label_map[None]),
                                     list(names), colours, with_labels=False)
    return draw_legend(np.ascontiguousarray(drawn), names, colours, shares,
                       present_only=present_only, notes=notes)


def slot_panel(image_rgb: np.ndarray, mask: np.ndarray, *, opacity: float = 0.6) -> np.ndarray:
    """One slot's mask probabilities (magma colours) over the image.

    Args:
        image_rgb: (H, W, 3) RGB uint8.
        mask: (h, w) probabilities in 0..1, at any size (resized to the image's).

    Returns:
        (H, W, 3) RGB uint8.
    """
    mask = cv2.resize(mask.astype(np.float32), image_rgb.shape[1::-1],
                      interpolation=cv2.INTER_LINEAR)
    heat = cv2.applyColorMap(np.clip(mask * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_MAGMA)
    heat = cv2.cvtColor(heat, cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(image_rgb, 1 - opacity, heat, opacity, 0)


def slot_caption(index: int, labels: Sequence[Tuple[str, float]]) -> str:
    """``'slot 3: grass 0.81, sea 0.12'``: a slot's best labels with their scores."""
    return f'slot {index}: ' + ', '.join(f'{name} {score:.2f}' for name, score in labels)


PANEL_SIDE = 600  # longest side of the image a slot panel is drawn from


def draw_slots(image_rgb: np.ndarray, slots: list, path: Optional[str] = None) -> np.ndarray:
    """One panel per slot: the image, the slot's mask over it, its best labels.

    Args:
        image_rgb: (H, W, 3) RGB uint8 (drawn at most ``PANEL_SIDE`` pixels on a side).
        slots: :func:`coseg_mmseg.apis.slot_predictions`'s list.
        path: Where to save the figure (PNG), if given.

    Returns:
        The figure as an (H', W', 3) RGB uint8 array.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    # Each panel is 300 pixels wide: draw from a copy at most twice that, not the full image
    # (N full-size masks of a large photo cost far more memory for the same picture).
    height, width = image_rgb.shape[:2]
    if max(height, width) > PANEL_SIDE:
        scale = PANEL_SIDE / max(height, width)
        image_rgb = cv2.resize(image_rgb, (max(1, round(width * scale)),
                                           max(1, round(height * scale))),
                               interpolation=cv2.INTER_AREA)
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
    fig.set_dpi(100)
    fig.canvas.draw()
    figure = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    if path is not None:
        fig.savefig(path, dpi=100)
    plt.close(fig)
    return figure
