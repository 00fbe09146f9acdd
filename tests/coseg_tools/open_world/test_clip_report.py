"""The CLIP report's dense floor and zero-shot accuracy on hand-built cases."""
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
