"""The CLIP report's dense floor and zero-shot accuracy on hand-built cases."""
import json
import os

import cv2
import numpy as np
import pytest
import torch

from coseg_tools.open_world import clip_report, world


class OneHotText:
    """Text embeddings: the one-hot vector of each name's global id."""

    def __call__(self, names):
        return torch.eye(len(world.CLASSES) + 1)[[world.CLASSES.index(n) for n in names]]


class PatchBackbone:
    """A backbone whose 8 px patch tokens are the one-hot embedding of a given (h, w) map of
    global ids per image (looked up by the image's top-left pixel value)."""

    def __init__(self, maps):
        self.maps = maps  # image key -> (h, w) global ids

    def __call__(self, pixels):
        tokens, pooled = [], []
        for image in pixels:
            grid = self.maps[round(float(image[0, 0, 0]), 3)]
            eye = torch.eye(len(world.CLASSES) + 1)
            tokens.append(eye[torch.as_tensor(grid).flatten()])
            pooled.append(eye[int(grid[0, 0])])
        h, w = grid.shape
        return dict(visual_tokens=torch.stack(tokens), image_embed=torch.stack(pooled),
                    grid=(h, w))


def _write(root, part, i, image, label):
    for folder, array in (('img_dir', image[..., ::-1]), ('ann_dir', label)):
        os.makedirs(os.path.join(root, folder, part), exist_ok=True)
        cv2.imwrite(os.path.join(root, folder, part, f'{i:05d}.png'), array)


def test_dense_floor_by_hand(tmp_path):
    split = world.make_split(0, 0.25)
    index = {c: i for i, c in enumerate(world.CLASSES)}
    ua, ub = (index[c] for c in split['unseen'][:2])
    sa = index[split['seen'][0]]
    root = str(tmp_path)
    # val_unseen: one 16 x 16 scene, left half ua, right half ub; the backbone names the
    # top-right patch ua (wrong)
    label = np.full((16, 16), ub, np.uint8)
    label[:, :8] = ua
    image = np.full((16, 16, 3), 10, np.uint8)
    _write(root, 'val_unseen', 0, image, label)
    # val_mixed: top half sa (seen), bottom half ua; the backbone is right except the
    # bottom-left patch, named sa; a 255 strip is ignored
    mixed = np.full((16, 16), ua, np.uint8)
    mixed[:8] = sa
    mixed[:, 15] = 255
    _write(root, 'val_mixed', 0, np.full((16, 16, 3), 20, np.uint8), mixed)

    def key(value):  # the first normalised pixel value of an image filled with ``value``
        pixels = clip_report.to_pixel_values(np.full((1, 1, 1, 3), value, np.uint8))
        return round(float(pixels[0, 0, 0, 0]), 3)

    backbone = PatchBackbone({key(10): np.array([[ua, ua], [ua, ub]]),
                              key(20): np.array([[sa, sa], [sa, ua]])})
    result = clip_report.dense_floor(backbone, OneHotText(), root, split)
    # unseen: IoU(ua) = 128 / 192, IoU(ub) = 64 / 128
    assert result['cross_mIoU'] == pytest.approx(100 * (128 / 192 + 64 / 128) / 2, abs=0.01)
    # mixed, 15 labelled columns: sa predicted on 8 x 15 + 8 x 8 = 184 px (gt 120: IoU 120/184),
    # ua predicted on 8 x 7 = 56 px (gt 120: IoU 56/120)
    seen, unseen = 100 * 120 / 184, 100 * 56 / 120
    assert result['mixed_seen_mIoU'] == pytest.approx(seen, abs=0.01)
    assert result['mixed_unseen_mIoU'] == pytest.approx(unseen, abs=0.01)
    assert result['mixed_hIoU'] == pytest.approx(2 * seen * unseen / (seen + unseen), abs=0.01)


def test_zero_shot_accuracy_counts_by_hand(monkeypatch):
    """A backbone that names every image right except those of one unseen class, which it
    names as another unseen class."""
    split = world.make_split(0, 0.25)
    index = {c: i for i, c in enumerate(world.CLASSES)}
    wrong, instead = (index[c] for c in split['unseen'][:2])
    drawn = []
    real = world.draw_single

    def draw(rng, cls, **kwargs):
        drawn.append(cls)
        return real(rng, cls, **kwargs)

    monkeypatch.setattr(world, 'draw_single', draw)

    def encode(backbone, images, batch=64):
        eye = torch.eye(len(world.CLASSES) + 1)
        ids = [instead if c == wrong else c for c in drawn]
        return eye[ids], None, None

    monkeypatch.setattr(clip_report, '_encode_images', encode)
    acc = clip_report.zero_shot_accuracy(None, OneHotText(), split, per_class=2)
    n_unseen = len(split['unseen'])
    assert acc['unseen_among_unseen'] == pytest.approx(100 * (n_unseen - 1) / n_unseen)
    assert acc['unseen_among_all'] == pytest.approx(100 * (n_unseen - 1) / n_unseen)
    assert acc['seen_among_seen'] == 100.0 and acc['seen_among_all'] == 100.0


def _additive_embeddings(names, dim=32, seed=0):
    """(K, dim) embeddings, each exactly a bias plus one random vector per word of the name
    (not normalised, so that the sums stay exactly additive)."""
    rng = np.random.default_rng(seed)
    words = sorted({w for n in names for w in n.split()})
    vectors = {w: rng.normal(size=dim) for w in words}
    bias = rng.normal(size=dim)
    return np.stack([bias + sum(vectors[w] for w in n.split()) for n in names])


def test_text_space_exactly_additive_names_all_right():
    """Embeddings that are exact sums of word vectors: the seen fit recovers them, so every
    unseen name is predicted exactly (cosine 1 to its own embedding). Catches an index
    mix-up between positions in the unseen list and in all names (e.g. comparing the nearest
    name's index among all names with the name's position among the unseen)."""
    split = world.make_split(0, 0.25)
    embeds = _additive_embeddings(split['classes'])
    result = clip_report.text_space(torch.as_tensor(embeds), split['classes'], split['seen'],
                                    split['unseen'])
    assert result['additive_unseen_among_all'] == 100.0
    assert result['additive_unseen_among_unseen'] == 100.0


def test_text_space_unrelated_names_not_named():
    """Two spaces that do not compose.

    Shuffled: the seen names are exact sums of word vectors, but each unseen name carries
    the sum of the NEXT unseen name's words (a cyclic shift), so the fit predicts for every
    unseen name exactly the embedding of another name: none is right.

    Random: every name an independent random vector in 256 dimensions. The prediction for an
    unseen name depends on the seen embeddings only, so its own embedding is no closer than
    any other's: about one in 12 right among the unseen (fixed seed, a bound far above).
    Fitting on all names instead of the seen ones puts each unseen embedding into its own
    prediction and names most of them right.
    """
    split = world.make_split(0, 0.25)
    names, unseen = split['classes'], split['unseen']
    embeds = _additive_embeddings(names)
    index = {c: i for i, c in enumerate(names)}
    additive = embeds.copy()
    for a, b in zip(unseen, unseen[1:] + unseen[:1]):
        embeds[index[a]] = additive[index[b]]
    result = clip_report.text_space(embeds, names, split['seen'], unseen)
    assert result['additive_unseen_among_all'] == 0.0
    assert result['additive_unseen_among_unseen'] == 0.0

    embeds = np.random.default_rng(1).normal(size=(len(names), 256))
    result = clip_report.text_space(embeds, names, split['seen'], unseen)
    assert result['additive_unseen_among_unseen'] <= 100 * 4 / len(unseen)
    assert result['additive_unseen_among_all'] <= 100 * 4 / len(unseen)


def test_text_space_nearest_other_cosine_by_hand():
    """Four names in 2-D: (1, 0), (0.6, 0.8), (0, 3) (norm 3: cosines must normalise) and
    (-1, 0). Cosines: 1-2 0.6, 1-3 0, 1-4 -1, 2-3 0.8, 2-4 -0.6, 3-4 0; the nearest other
    name of each: 0.6, 0.8, 0.8, 0 (mean 0.55). Catches a name's own cosine 1 counted as its
    nearest, and dot products taken without normalising."""
    names = ['red disc', 'blue disc', 'red ring', 'blue ring']
    embeds = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 3.0], [-1.0, 0.0]])
    result = clip_report.text_space(embeds, names, names[:3], names[3:])
    assert result['nearest_other_cosine'] == pytest.approx(0.55)
    assert result['nearest_other_cosine_min'] == pytest.approx(0.0)
    assert result['nearest_other_cosine_max'] == pytest.approx(0.8)


def test_text_space_unseen_word_missing_from_seen_names():
    """'ring' occurs in no seen name: refused, naming the word, rather than predicted with a
    zero word vector (what a vocabulary built from all names would silently do)."""
    names = ['red disc', 'blue disc', 'red square', 'blue ring']
    embeds = np.random.default_rng(0).normal(size=(4, 8))
    with pytest.raises(ValueError, match="'ring'"):
        clip_report.text_space(embeds, names, names[:3], names[3:])


def test_clip_report_has_text_space(monkeypatch, tmp_path, capsys):
    """The report and the command line carry the text space; the cosines print to three
    decimals."""
    split = world.make_split(0, 0.25)
    with open(tmp_path / 'split.json', 'w') as f:
        json.dump(split, f)
    embeds = torch.as_tensor(_additive_embeddings(split['classes']), dtype=torch.float32)
    text = lambda names: embeds[[split['classes'].index(n) for n in names]]  # noqa: E731
    monkeypatch.setattr(clip_report, 'load_world_clip', lambda clip_dir: (None, text))
    monkeypatch.setattr(clip_report, 'zero_shot_accuracy', lambda *a, **k: {})
    monkeypatch.setattr(clip_report, 'dense_floor', lambda *a, **k: dict.fromkeys(
        ('cross_mIoU', 'mixed_mIoU', 'mixed_seen_mIoU', 'mixed_unseen_mIoU', 'mixed_hIoU'), 0.))
    report = clip_report.clip_report('clip', str(tmp_path))
    assert report['text_space']['additive_unseen_among_all'] == 100.0
    lines = clip_report.format_report(report)
    assert 'text_space.additive_unseen_among_unseen: 100.0' in lines
    cosine = report['text_space']['nearest_other_cosine']
    assert f'text_space.nearest_other_cosine: {cosine:.3f}' in lines
    clip_report.main(['clip', str(tmp_path), '--text-space-only'])
    out = capsys.readouterr().out.splitlines()
    assert 'text_space.additive_unseen_among_all: 100.0' in out
    assert not any(line.startswith('dense_floor') for line in out)
