"""The open world: names that compose, the seeded split's guarantees, scenes on disk."""
import itertools

import numpy as np
import pytest

from coseg_tools.open_world import world
from coseg_tools.open_world.world import (CLASSES, IGNORE_INDEX, STUFF, THINGS, class_words,
                                          make_split)


def test_names_compose_from_shared_words():
    assert len(CLASSES) >= 40 and len(set(CLASSES)) == len(CLASSES)
    assert STUFF and THINGS and CLASSES == STUFF + THINGS
    for name in STUFF:
        colour, pattern, noun = class_words(name)
        assert (colour, pattern, noun) == (*world.LOOKS[name], world.STUFF_NOUN)
    for name in THINGS:
        colour, pattern, shape = class_words(name)
        assert (colour, pattern, shape) == world.LOOKS[name]
    # every word is shared by several classes, so each can be learnt from others
    counts = {}
    for name in CLASSES:
        for word in class_words(name):
            counts[word] = counts.get(word, 0) + 1
    assert set(counts) == (set(world.COLOURS) | set(world.PATTERNS) | set(world.SHAPES) |
                           {world.STUFF_NOUN})
    assert min(counts.values()) >= 4


@pytest.mark.parametrize('fraction', [0.05, 0.1, 0.25, 0.4])
def test_split_guarantees_for_many_seeds(fraction):
    for seed in range(25):
        split = make_split(seed, fraction)
        seen, unseen = set(split['seen']), set(split['unseen'])
        assert not seen & unseen and seen | unseen == set(CLASSES)
        assert len(unseen) == round(fraction * len(CLASSES))
        known = {w for c in seen for w in class_words(c)}
        assert all(w in known for c in unseen for w in class_words(c)), (seed, fraction)
        assert unseen & set(STUFF) and unseen & set(THINGS), (seed, fraction)
        order = [CLASSES.index(c) for c in split['unseen']]
        assert order == sorted(order)
        assert split['classes'] == list(CLASSES)
        assert (split['split_seed'], split['unseen_fraction']) == (seed, fraction)


def test_split_follows_its_seed():
    assert make_split(3, 0.25) == make_split(3, 0.25)
    unseen = {tuple(make_split(s, 0.25)['unseen']) for s in range(10)}
    assert len(unseen) == 10  # not one hand-picked split


@pytest.mark.parametrize('fraction', [0.0, 1.0, 0.9])
def test_split_refuses_impossible_fractions(fraction):
    with pytest.raises(ValueError, match='unseen_fraction'):
        make_split(0, fraction)


def test_pattern_periods_are_a_few_pixels():
    rng = np.random.default_rng(0)
    for kind in world.PATTERNS[1:]:
        field = world.pattern_field(kind, 64, 64, rng)
        assert field.min() < 0.55 and field.max() > 0.95
        # within every 8 px patch the pattern shows both of its levels
        patches = field.reshape(8, 8, 8, 8).transpose(0, 2, 1, 3).reshape(64, 64)
        assert ((patches.max(1) - patches.min(1)) > 0.4).mean() > 0.9, kind


def test_scenes_hold_their_parts_classes_only():
    split = make_split(1, 0.25)
    index = {c: i for i, c in enumerate(CLASSES)}
    unseen = {index[c] for c in split['unseen']}
    rng = np.random.default_rng(0)
    train = [world.draw_scene(rng, *world.scene_pools(split, 'train'))[1] for _ in range(30)]
    cross = [world.draw_scene(rng, *world.scene_pools(split, 'val_unseen'))[1]
             for _ in range(30)]
    mixed = [world.draw_mixed_scene(rng, split)[1] for _ in range(10)]
    present = [set(np.unique(x).tolist()) - {IGNORE_INDEX} for x in train + cross + mixed]
    assert all(p and not p & unseen for p in present[:30])
    assert all(p and p <= unseen for p in present[30:60])
    assert all(p & unseen and p - unseen for p in present[60:])
    # several stuff regions and things per scene, each class of a scene a different look
    for p in present:
        looks = [world.LOOKS[CLASSES[c]][:2] for c in p]
        assert len(set(looks)) == len(looks)
    assert np.mean([len(p) for p in present[:30]]) > 2.5


def test_shapes_differ_and_fit_the_size_range():
    rng = np.random.default_rng(0)
    masks = {s: world.shape_mask(s, rng, 128, 128, size_range=(0.5, 0.5), centre=(64, 64))
             for s in world.SHAPES}
    for a, b in itertools.combinations(world.SHAPES, 2):
        iou = (masks[a] & masks[b]).sum() / (masks[a] | masks[b]).sum()
        assert iou < 0.9, (a, b)
    # a disc of radius 32 px: pi r^2 within the jitter of its axes
    assert 0.75 * np.pi * 32 ** 2 < masks['disc'].sum() < 1.25 * np.pi * 32 ** 2
