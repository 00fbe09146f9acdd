"""The open world: classes whose names compose, a seeded seen / unseen split, and its scenes.

Every class is a look made of words: a colour and a pattern for stuff ("blue wavy ground"),
a colour, a pattern and a shape for things ("red striped disc"). Names share words as real
names do, so a CLIP trained on all of them can place a name it never saw in a segmentation
mask near the images it describes. The split (:func:`make_split`) is drawn from a seed and a
fraction; its unseen classes appear in no training mask, yet each of their words occurs in a
seen class.

Scenes are drawn at 128 px: 1-3 stuff regions split by wavy boundaries, then things of
random size, rotation and position occluding them; colours get a hue jitter, patterns a
random period, phase and direction, so that no look is a fixed pixel template. Label maps
hold global class ids (the index in :data:`CLASSES`), 255 where nothing is labelled.
"""
import json
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from coseg_tools.generators.layout import write_segmentation_samples

IGNORE_INDEX = 255
SCENE_SIZE = 128

# Saturated colours far apart in RGB; every one keeps its hue under the jitter of _jitter.
COLOURS: Dict[str, Tuple[int, int, int]] = {
    'red': (225, 35, 35),
    'green': (40, 185, 50),
    'blue': (40, 80, 235),
    'yellow': (235, 215, 30),
    'purple': (155, 45, 205),
    'cyan': (35, 205, 215),
}
# Brightness patterns with periods of a few pixels, so that an 8 px patch shows one.
PATTERNS: Tuple[str, ...] = ('plain', 'striped', 'dotted', 'checkered', 'wavy')
SHAPES: Tuple[str, ...] = ('disc', 'square', 'triangle', 'cross')
STUFF_NOUN = 'ground'


def _stuff_looks() -> List[Tuple[str, str]]:
    """(colour, pattern) of the stuff classes: each colour with three patterns, shifted by
    colour so that every pattern occurs with several colours (18 classes)."""
    looks = []
    for i, colour in enumerate(COLOURS):
        for k in range(3):
            looks.append((colour, PATTERNS[(i + k) % len(PATTERNS)]))
    return looks


def _thing_looks() -> List[Tuple[str, str, str]]:
    """(colour, pattern, shape) of the thing classes: every colour with every shape, the
    pattern shifted by colour and shape, and a second pattern for one shape per colour
    (30 classes)."""
    looks = []
    for i, colour in enumerate(COLOURS):
        for s, shape in enumerate(SHAPES):
            looks.append((colour, PATTERNS[(i + s) % len(PATTERNS)], shape))
        s = i % len(SHAPES)
        looks.append((colour, PATTERNS[(i + s + 2) % len(PATTERNS)], SHAPES[s]))
    return looks


STUFF_LOOKS = tuple(_stuff_looks())
THING_LOOKS = tuple(_thing_looks())
STUFF = tuple(f'{c} {p} {STUFF_NOUN}' for c, p in STUFF_LOOKS)
THINGS = tuple(f'{c} {p} {s}' for c, p, s in THING_LOOKS)
# Global class ids: stuff first, then things.
CLASSES: Tuple[str, ...] = STUFF + THINGS
LOOKS: Dict[str, Tuple[str, ...]] = {
    **{name: look for name, look in zip(STUFF, STUFF_LOOKS)},
    **{name: look for name, look in zip(THINGS, THING_LOOKS)}}


def class_words(name: str) -> Tuple[str, ...]:
    """The words of a class name ("red striped disc" -> ("red", "striped", "disc"))."""
    return tuple(name.split())


def is_stuff(name: str) -> bool:
    """Whether ``name`` is a stuff class (fills regions) rather than a thing (a shape)."""
    return name in STUFF


# ---------------------------------------------------------------------------------------------
# The split
# ---------------------------------------------------------------------------------------------

def make_split(split_seed: int = 0, unseen_fraction: float = 0.25,
               classes: Sequence[str] = CLASSES) -> Dict:
    """Draw the seen / unseen split of ``classes`` from a seed and a fraction.

    ``round(unseen_fraction * K)`` classes are unseen, stuff and things in proportion to their
    counts (at least one of each when two or more are unseen). Candidates are taken in a
    random order of ``split_seed`` and kept only while every word of every unseen class still
    occurs in some seen class, so an unseen name is a new combination of known words.

    Returns:
        ``{"classes", "stuff", "things", "seen", "unseen", "split_seed", "unseen_fraction"}``
        (class lists in global id order), as ``split.json`` stores it.

    Raises:
        ValueError: a fraction outside (0, 1), or one too large to keep every unseen word seen.
    """
    if not 0 < unseen_fraction < 1:
        raise ValueError(f'unseen_fraction must be in (0, 1), got {unseen_fraction}')
    classes = tuple(classes)
    stuff = [c for c in classes if is_stuff(c)]
    things = [c for c in classes if not is_stuff(c)]
    total = max(1, int(round(unseen_fraction * len(classes))))
    n_stuff = int(round(total * len(stuff) / len(classes)))
    if total >= 2:
        n_stuff = min(max(n_stuff, 1), total - 1)
    wanted = {'stuff': n_stuff, 'things': total - n_stuff}
    rng = np.random.default_rng([split_seed, 24])
    unseen: List[str] = []
    seen = set(classes)
    for group, members in (('stuff', stuff), ('things', things)):
        taken = 0
        for idx in rng.permutation(len(members)):
            if taken == wanted[group]:
                break
            candidate = members[int(idx)]
            rest = seen - {candidate}
            known = {w for c in rest for w in class_words(c)}
            if all(w in known for c in unseen + [candidate] for w in class_words(c)):
                unseen.append(candidate)
                seen = rest
                taken += 1
        if taken < wanted[group]:
            raise ValueError(
                f'unseen_fraction={unseen_fraction} asks for {wanted[group]} unseen {group} '
                f'classes, but only {taken} can be unseen while each of their words stays in a '
                f'seen class; use a smaller --unseen-fraction')
    order = {c: i for i, c in enumerate(classes)}
    return dict(classes=list(classes), stuff=stuff, things=things,
                seen=sorted(seen, key=order.get), unseen=sorted(unseen, key=order.get),
                split_seed=int(split_seed), unseen_fraction=float(unseen_fraction))


# ---------------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------------

def _square_wave(u: np.ndarray, period: float, phase: float) -> np.ndarray:
    """1 on the bright half of each period of ``u``, 0 on the dark half."""
    return (np.sin(2 * np.pi * u / period + phase) > 0).astype(np.float32)


def pattern_field(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A (H, W) brightness factor in about [0.4, 1.05] for a pattern, randomly varied.

    Periods are 5-8 px (scaled by a random factor), with a random phase; stripes have a
    random direction around the diagonal, waves a random amplitude and wavelength.
    """
    y, x = np.mgrid[:height, :width].astype(np.float32)
    scale = rng.uniform(0.85, 1.2)
    phase = rng.uniform(0, 2 * np.pi)
    dark = rng.uniform(0.38, 0.5)
    if kind == 'plain':
        field = 1 - 0.06 * (1 + np.sin(x / width * rng.uniform(1, 3) + phase)) / 2
        return field.astype(np.float32)
    if kind == 'striped':
        angle = np.deg2rad(45 + rng.uniform(-15, 15)) * rng.choice([-1, 1])
        u = x * np.cos(angle) + y * np.sin(angle)
        bright = _square_wave(u, 6 * scale, phase)
    elif kind == 'wavy':
        u = y + rng.uniform(1.5, 2.5) * np.sin(2 * np.pi * x / (14 * scale) + phase)
        bright = _square_wave(u, 6 * scale, rng.uniform(0, 2 * np.pi))
    elif kind == 'dotted':
        period = 6 * scale
        oy, ox = rng.uniform(0, period, size=2)
        dy = (y + oy) % period - period / 2
        dx = (x + ox) % period - period / 2
        bright = (dy ** 2 + dx ** 2 > (0.3 * period) ** 2).astype(np.float32)
    elif kind == 'checkered':
        period = 8 * scale
        bright = _square_wave(x, period, phase) == _square_wave(y, period, rng.uniform(0, 6.3))
        bright = bright.astype(np.float32)
    else:
        raise ValueError(f'unknown pattern {kind!r}; expected one of {PATTERNS}')
    return dark + (1.0 - dark) * bright


def _jitter(colour: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    """The colour (RGB) with a small random shift per channel and brightness."""
    rgb = np.asarray(colour, np.float32) + rng.uniform(-18, 18, size=3)
    return np.clip(rgb * rng.uniform(0.9, 1.08), 0, 255)


def shape_mask(shape: str, rng: np.random.Generator, height: int = SCENE_SIZE,
               width: int = SCENE_SIZE, size_range: Tuple[float, float] = (0.3, 0.55),
               centre: Optional[Tuple[float, float]] = None) -> np.ndarray:
    """(H, W) bool: a shape of random size (its extent a ``size_range`` fraction of the
    side), rotation and centre (inside the image unless ``centre`` is given)."""
    import cv2
    side = min(height, width)
    radius = rng.uniform(*size_range) * side / 2
    if centre is None:
        margin = radius * 0.6
        cy, cx = rng.uniform(margin, height - margin), rng.uniform(margin, width - margin)
    else:
        cy, cx = centre
    angle = rng.uniform(0, 2 * np.pi)
    mask = np.zeros((height, width), np.uint8)

    def polygon(points: np.ndarray) -> None:
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        pts = points @ rot.T * radius + np.array([cx, cy])
        cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)

    if shape == 'disc':
        axes = (radius * rng.uniform(0.9, 1.1), radius * rng.uniform(0.9, 1.1))
        cv2.ellipse(mask, (int(round(cx * 16)), int(round(cy * 16))),
                    (int(round(axes[0] * 16)), int(round(axes[1] * 16))),
                    float(np.rad2deg(angle)), 0, 360, 1, -1, cv2.LINE_8, 4)
    elif shape == 'square':
        polygon(np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * 0.78)
    elif shape == 'triangle':
        t = np.pi / 2 + np.arange(3) * 2 * np.pi / 3
        polygon(np.stack([np.cos(t), np.sin(t)], 1) * 1.1)
    elif shape == 'cross':
        a, b = 1.0, 0.36
        polygon(np.array([[-b, -a], [b, -a], [b, -b], [a, -b], [a, b], [b, b], [b, a],
                          [-b, a], [-b, b], [-a, b], [-a, -b], [-b, -b]]))
    else:
        raise ValueError(f'unknown shape {shape!r}; expected one of {SHAPES}')
    return mask.astype(bool)


def paint(label: np.ndarray, rng: np.random.Generator,
          classes: Sequence[str] = CLASSES) -> np.ndarray:
    """RGB image (H, W, 3) uint8 of a global-id label map: each class in its colour and
    pattern (each with its own jitter); 255 pixels in a dim grey; noise on top."""
    image = np.empty(label.shape + (3, ), np.float32)
    image[...] = rng.uniform(90, 130)
    for cls in np.unique(label):
        if cls == IGNORE_INDEX:
            continue
        look = LOOKS[classes[int(cls)]]
        where = label == cls
        field = pattern_field(look[1], *label.shape, rng)
        image[where] = _jitter(COLOURS[look[0]], rng) * field[where][:, None]
    image += rng.normal(0, 5, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def _appearance(name: str) -> Tuple[str, str]:
    return LOOKS[name][:2]


def stuff_layout(rng: np.random.Generator, stuff_ids: Sequence[int], height: int = SCENE_SIZE,
                 width: int = SCENE_SIZE, count: Optional[int] = None,
                 classes: Sequence[str] = CLASSES) -> np.ndarray:
    """(H, W) uint8 global ids of 1-3 stuff regions (distinct looks) split by wavy boundaries;
    all 255 when ``stuff_ids`` is empty."""
    label = np.full((height, width), IGNORE_INDEX, np.uint8)
    if len(stuff_ids) == 0:
        return label
    if count is None:
        count = int(rng.choice([1, 2, 2, 3]))
    chosen: List[int] = []
    for idx in rng.permutation(len(stuff_ids)):
        cls = int(stuff_ids[int(idx)])
        if all(_appearance(classes[cls]) != _appearance(classes[c]) for c in chosen):
            chosen.append(cls)
        if len(chosen) == count:
            break
    label[:] = chosen[0]
    cuts = np.sort(rng.uniform(0.25, 0.75, size=len(chosen) - 1)) * height
    x = np.arange(width)
    horizontal = rng.random() < 0.5
    for cls, cut in zip(chosen[1:], cuts):
        boundary = cut + rng.uniform(3, 10) * np.sin(x * rng.uniform(0.03, 0.1) +
                                                     rng.uniform(0, 6.3))
        below = np.arange(height)[:, None] >= boundary[None]
        label[below if horizontal else below.T] = cls
    return label


def draw_scene(rng: np.random.Generator, stuff_ids: Sequence[int], thing_ids: Sequence[int],
               *, size: int = SCENE_SIZE, max_things: int = 4, min_area: float = 0.01,
               classes: Sequence[str] = CLASSES) -> Tuple[np.ndarray, np.ndarray]:
    """One scene of the given classes: RGB image (H, W, 3) uint8 and global ids (H, W) uint8.

    1-3 stuff regions (from ``stuff_ids``), then 1-``max_things`` things (from
    ``thing_ids``), later ones occluding earlier ones; no two classes of a scene share a
    colour and pattern. A class left with less than ``min_area`` of the image is marked 255
    (too small to name), so every labelled class is visible.
    """
    label = stuff_layout(rng, stuff_ids, size, size, classes=classes)
    present = [int(c) for c in np.unique(label) if c != IGNORE_INDEX]
    if len(thing_ids):
        for _ in range(int(rng.integers(1, max_things + 1))):
            cls = int(thing_ids[int(rng.integers(len(thing_ids)))])
            if any(_appearance(classes[cls]) == _appearance(classes[c]) and c != cls
                   for c in present):
                continue
            shape = LOOKS[classes[cls]][2]
            label[shape_mask(shape, rng, size, size, size_range=(0.25, 0.55))] = cls
            present.append(cls)
    ids, counts = np.unique(label, return_counts=True)
    for cls, count in zip(ids, counts):
        if cls != IGNORE_INDEX and count < min_area * label.size:
            label[label == cls] = IGNORE_INDEX
    return paint(label, rng, classes), label


def draw_single(rng: np.random.Generator, cls: int, *, size: int = SCENE_SIZE,
                classes: Sequence[str] = CLASSES) -> Tuple[np.ndarray, np.ndarray]:
    """An image of one class: a stuff class fills it; a thing, large, lies on dim grey."""
    name = classes[cls]
    label = np.full((size, size), IGNORE_INDEX, np.uint8)
    if is_stuff(name):
        label[:] = cls
    else:
        centre = tuple(rng.uniform(0.4, 0.6, size=2) * size)
        label[shape_mask(LOOKS[name][2], rng, size, size, size_range=(0.5, 0.75),
                         centre=centre)] = cls
    return paint(label, rng, classes), label


# ---------------------------------------------------------------------------------------------
# On disk
# ---------------------------------------------------------------------------------------------

SCENE_SPLITS = ('train', 'val_unseen', 'val_mixed')


def scene_pools(split: Dict, part: str) -> Tuple[List[int], List[int]]:
    """The global ids (stuff, things) the scenes of ``part`` draw from."""
    index = {c: i for i, c in enumerate(split['classes'])}
    names = dict(train=split['seen'], val_unseen=split['unseen'],
                 val_mixed=split['classes'])[part]
    return ([index[c] for c in names if c in split['stuff']],
            [index[c] for c in names if c in split['things']])


def draw_mixed_scene(rng: np.random.Generator, split: Dict, size: int = SCENE_SIZE
                     ) -> Tuple[np.ndarray, np.ndarray]:
    """A generalized-test scene: drawn from all classes, redrawn until it holds at least one
    seen and one unseen class."""
    index = {c: i for i, c in enumerate(split['classes'])}
    unseen = {index[c] for c in split['unseen']}
    stuff, things = scene_pools(split, 'val_mixed')
    while True:
        image, label = draw_scene(rng, stuff, things, size=size)
        present = set(np.unique(label).tolist()) - {IGNORE_INDEX}
        if present & unseen and present - unseen:
            return image, label


def write_scenes(out: str, split: Dict, *, num_train: int = 600, num_val: int = 100,
                 seed: int = 0, size: int = SCENE_SIZE) -> Dict[str, int]:
    """Write ``out/split.json``, ``out/img_dir/<part>/NNNNN.png`` and
    ``out/ann_dir/<part>/NNNNN.png`` for the three parts; return their counts.

    ``train`` holds seen classes only, ``val_unseen`` unseen ones only, ``val_mixed`` both.
    Each part draws from its own random stream of ``seed``.
    """
    counts = dict(train=num_train, val_unseen=num_val, val_mixed=num_val)
    for stream, part in enumerate(SCENE_SPLITS):
        rng = np.random.default_rng([seed, 240 + stream])
        stuff, things = scene_pools(split, part)
        scenes = (draw_mixed_scene(rng, split, size) if part == 'val_mixed'
                  else draw_scene(rng, stuff, things, size=size) for _ in range(counts[part]))
        write_segmentation_samples(  # drawn RGB, written BGR
            os.path.join(out, 'img_dir', part), os.path.join(out, 'ann_dir', part),
            ((f'{i:05d}', image[..., ::-1], label) for i, (image, label) in enumerate(scenes)),
            img_suffix='.png')
    with open(os.path.join(out, 'split.json'), 'w') as f:
        json.dump(split, f, indent=1)
    return counts


def read_split(path: str) -> Dict:
    """The split stored in ``path`` (a ``split.json``)."""
    with open(path) as f:
        return json.load(f)
