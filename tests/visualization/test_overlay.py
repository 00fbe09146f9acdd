"""Drawing for people: the legend (every name, or only those present; notes after names) and
the slot figure's memory."""
import tracemalloc

import numpy as np

from coseg_mmseg.visualization.overlay import draw_legend, draw_slots, palette

NAMES = ['red disc', 'blue wavy ground', 'green dotted square', 'cyan plain cross']


def legend_height(image: np.ndarray) -> int:
    """Rows of the darkened legend box drawn on a white image (its left margin column)."""
    return int((image[:, 1, 0] < 255).sum())


def test_present_only_lists_the_names_found():
    shares = {'blue wavy ground': 0.6, 'cyan plain cross': 0.1}
    full = draw_legend(np.full((400, 400, 3), 255, np.uint8), NAMES, palette(4), shares)
    short = draw_legend(np.full((400, 400, 3), 255, np.uint8), NAMES, palette(4), shares,
                        present_only=True)
    line = int(26 * 0.444 / 0.6)  # draw_legend's line height at 400 px
    assert legend_height(full) == line * 4 + 8
    assert legend_height(short) == line * 2 + 8
    # the rows kept keep their vocabulary colours: blue wavy ground (index 1) comes first
    y = 4 + line // 2
    assert tuple(short[y, 6]) == palette(4)[1]


def test_notes_widen_the_rows():
    shares = {'red disc': 1.0}
    plain = draw_legend(np.full((300, 600, 3), 255, np.uint8), NAMES[:1], palette(1), shares)
    noted = draw_legend(np.full((300, 600, 3), 255, np.uint8), NAMES[:1], palette(1), shares,
                        notes={'red disc': '(unseen)'})
    width = lambda image: int((image[2, :, 0] < 255).sum())  # noqa: E731
    assert width(noted) > width(plain)


def slots(count=6, size=32):
    rng = np.random.RandomState(0)
    return [dict(mask=rng.rand(size, size).astype(np.float32), labels=[('sky', 0.9)])
            for _ in range(count)]


def test_slot_figure_of_a_large_image_costs_what_a_small_one_does():
    """The panels are 300 pixels wide: a 2400 x 2400 photo is drawn from a small copy, not with
    six full-size masks (each 23 MB in float32)."""
    small = draw_slots(np.full((400, 400, 3), 90, np.uint8), slots())
    image = np.full((2400, 2400, 3), 90, np.uint8)
    tracemalloc.start()
    try:
        large = draw_slots(image, slots())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert large.shape == small.shape
    assert peak < 40 * 2**20, f'{peak / 2**20:.0f} MiB'
