"""The legend of draw_overlay: every name, or only those present; notes after names."""
import numpy as np

from coseg_mmseg.visualization.overlay import draw_legend, palette

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
