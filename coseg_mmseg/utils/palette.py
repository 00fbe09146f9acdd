"""The colours of a vocabulary's classes: the segmentor's ``dataset_meta`` and the drawings."""
import colorsys
from typing import List, Tuple


def palette(count: int) -> List[Tuple[int, int, int]]:
    """``count`` well-separated RGB colours (golden-ratio hues), the same on every run."""
    colours = []
    for i in range(count):
        r, g, b = colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.65, 0.95)
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    return colours
