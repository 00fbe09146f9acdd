import tracemalloc

import numpy as np

from coseg_mmseg.visualization.overlay import draw_slots


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
