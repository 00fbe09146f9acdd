"""A controlled segmentation task with a known answer: does CoSeg learn?

Scenes of textured "stuff" regions and occluding "things" of varied size, drawn in COCO-Stuff
164k's on-disk layout (``images/{train2017,val2017}/*.jpg``,
``annotations/{train2017,val2017}/*_labelTrainIds.png``, label values are COCO-Stuff trainIds),
and a tiny CLIP saved with ``save_pretrained`` whose text tower was trained to tell the class
prompts apart, so that the class names can be told apart through the real text-encoder path.
"""
import itertools
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from coseg_mmseg.utils.errors import UserError
from .tiny_assets import TINY_PROJECTION_DIM, TINY_TEXT, TINY_VISION, write_coco_stuff_split

# The closed vocabulary: COCO-Stuff trainId -> (BGR colour, texture, natural name). Some pairs
# share a hue and differ by texture only (sea / sky, grass / tree), so colour alone is not enough.
CONVERGENCE_STUFF = {
    145: ((235, 190, 120), 'smooth', 'sky'),
    143: ((190, 110, 40), 'waves', 'sea'),
    112: ((60, 170, 70), 'noise', 'grass'),
    157: ((40, 110, 40), 'dots', 'tree'),
    137: ((100, 100, 100), 'noise', 'road'),
    159: ((60, 80, 170), 'bricks', 'brick wall'),
}
CONVERGENCE_THINGS = {
    0: ((80, 120, 230), 'smooth', 'person'),
    2: ((40, 40, 200), 'stripes', 'car'),
    16: ((40, 110, 160), 'dots', 'dog'),
    15: ((170, 170, 170), 'stripes', 'cat'),
    14: ((30, 210, 230), 'checker', 'bird'),
    1: ((200, 40, 170), 'checker', 'bicycle'),
}
CONVERGENCE_CLASSES = {**CONVERGENCE_STUFF, **CONVERGENCE_THINGS}
# In trainId order, as COCOStuffDataset lists them once restricted to these classes.
CONVERGENCE_IDS = tuple(sorted(CONVERGENCE_CLASSES))
CONVERGENCE_NAMES = tuple(CONVERGENCE_CLASSES[i][2] for i in CONVERGENCE_IDS)

# The tiny CLIP of the benchmark: 8 px patches, so that masks can follow object outlines.
CONVERGENCE_VISION = dict(TINY_VISION, image_size=128, patch_size=8)
# The benchmark's configs give the model 8 slots; a crowded held-out scene holds more classes,
# one per CROWDED_EVERY plain held-out scenes.
CROWDED_MIN_CLASSES = 9
CROWDED_EVERY = 10
# Prompt templates of the text-tower training; the first is the text encoder's.
CAPTION_TEMPLATES = ('a photo of a {}.', 'a picture of a {}.', 'a {} in the scene.',
                     'there is a {} here.', 'an image with a {}.', '{}')


def _texture(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A (H, W) brightness pattern around 1 for a texture kind, with a random phase."""
    y, x = np.mgrid[:height, :width].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi)
    if kind == 'smooth':
        return 1 + 0.08 * np.sin(y / height * np.pi + phase)
    if kind == 'waves':
        return 1 + 0.3 * np.sin(0.8 * y + 0.6 * np.sin(0.25 * x + phase))
    if kind == 'stripes':
        return 1 + 0.35 * np.sign(np.sin(0.9 * (x + y) + phase))
    if kind == 'checker':
        return 1 + 0.35 * np.sign(np.sin(0.8 * x + phase) * np.sin(0.8 * y + phase))
    if kind == 'dots':
        return 1 - 0.45 * ((np.sin(0.9 * x + phase) * np.sin(0.9 * y)) > 0.6)
    if kind == 'bricks':
        row = (y // 6).astype(int)
        mortar = (y % 6 < 1) | (((x + 6 * (row % 2)) % 12) < 1)
        return np.where(mortar, 1.7, 1.0)
    if kind == 'noise':
        small = rng.normal(0, 0.25, (height // 4 + 1, width // 4 + 1)).astype(np.float32)
        return 1 + np.kron(small, np.ones((4, 4), np.float32))[:height, :width]
    raise ValueError(f'unknown texture {kind!r}')


def _stuff_layout(rng: np.random.Generator, height: int, width: int,
                  count: Optional[int] = None) -> np.ndarray:
    """(H, W) trainIds of ``count`` (default: 1-3 at random) stuff regions split by wavy
    horizontal boundaries."""
    if count is None:
        count = int(rng.choice([1, 2, 2, 3, 3]))
    classes = rng.choice(list(CONVERGENCE_STUFF), size=count, replace=False)
    label = np.full((height, width), classes[0], dtype=np.uint8)
    cuts = np.sort(rng.uniform(0.2, 0.8, size=count - 1)) * height
    x = np.arange(width)
    for cls, cut in zip(classes[1:], cuts):
        boundary = cut + rng.uniform(2, 10) * np.sin(x * rng.uniform(0.02, 0.1) +
                                                     rng.uniform(0, 6.3))
        label[np.arange(height)[:, None] >= boundary[None]] = cls
    return label


def _thing_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """(H, W) bool: an ellipse, rectangle or polygon of random size (8 % to 55 % of the side)."""
    import cv2
    mask = np.zeros((height, width), np.uint8)
    side = min(height, width)
    h, w = (rng.uniform(0.08, 0.55, size=2) * side).astype(int) + 4
    cy, cx = rng.integers(0, height), rng.integers(0, width)
    shape = rng.integers(3)
    if shape == 0:
        cv2.ellipse(mask, (int(cx), int(cy)), (int(w // 2), int(h // 2)),
                    float(rng.uniform(0, 180)), 0, 360, 1, -1)
    elif shape == 1:
        cv2.rectangle(mask, (int(cx - w // 2), int(cy - h // 2)),
                      (int(cx + w // 2), int(cy + h // 2)), 1, -1)
    else:
        angles = np.sort(rng.uniform(0, 2 * np.pi, size=int(rng.integers(3, 7))))
        radii = rng.uniform(0.6, 1.0, size=angles.size)
        points = np.stack([cx + radii * w / 2 * np.cos(angles),
                           cy + radii * h / 2 * np.sin(angles)], 1).astype(np.int32)
        cv2.fillPoly(mask, [points], 1)
    return mask.astype(bool)


def _paint(label: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """BGR image (H, W, 3) uint8 of a trainId map: every region textured, with its own
    brightness and phase, plus noise."""
    image = np.zeros(label.shape + (3, ), np.float32)
    for cls in np.unique(label):
        colour, kind, _ = CONVERGENCE_CLASSES[int(cls)]
        where = label == cls
        pattern = _texture(kind, *label.shape, rng) * rng.uniform(0.85, 1.15)
        image[where] = np.asarray(colour, np.float32) * pattern[where][:, None]
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def draw_convergence_scene(rng: np.random.Generator, height: int = 128, width: int = 128,
                           max_things: int = 5) -> Tuple[np.ndarray, np.ndarray]:
    """One scene: BGR image (H, W, 3) uint8 and its COCO-Stuff trainId map (H, W) uint8.

    1-3 stuff regions, then 1-``max_things`` things (classes may repeat) drawn in turn, later
    ones occluding earlier ones. Classes occluded away are simply absent from the label map.
    """
    label = _stuff_layout(rng, height, width)
    for _ in range(int(rng.integers(1, max_things + 1))):
        label[_thing_mask(rng, height, width)] = rng.choice(list(CONVERGENCE_THINGS))
    return _paint(label, rng), label


def draw_crowded_scene(rng: np.random.Generator, height: int = 128, width: int = 128,
                       min_classes: int = CROWDED_MIN_CLASSES,
                       min_area: float = 0.005) -> Tuple[np.ndarray, np.ndarray]:
    """A scene holding more classes than the benchmark's slots, as :func:`draw_convergence_scene`.

    3 stuff regions and one thing of each thing class in random order, drawn again until at
    least ``min_classes`` classes each cover ``min_area`` of the image.
    """
    if min_classes > 3 + len(CONVERGENCE_THINGS):
        raise ValueError(f'a crowded scene holds at most {3 + len(CONVERGENCE_THINGS)} classes, '
                         f'not min_classes={min_classes}')
    while True:
        label = _stuff_layout(rng, height, width, count=3)
        for cls in rng.permutation(list(CONVERGENCE_THINGS)):
            label[_thing_mask(rng, height, width)] = cls
        areas = np.unique(label, return_counts=True)[1]
        if (areas >= min_area * label.size).sum() >= min_classes:
            return _paint(label, rng), label


def make_convergence_cocostuff(root: str, *, num_train: int = 600, num_val: int = 100,
                               num_crowded_val: Optional[int] = None, num_crowded_train: int = 0,
                               size: int = 128, seed: int = 0) -> str:
    """Write the benchmark's scenes under ``root`` in COCO-Stuff-164k's layout; return ``root``.

    Each split holds its plain scenes, then its crowded ones (:func:`draw_crowded_scene`;
    validation: default ``num_val // CROWDED_EVERY``; training: ``num_crowded_train``). The
    four parts come from separate random streams of ``seed``, so the count of one part leaves
    the scenes of the others unchanged.
    """
    if num_crowded_val is None:
        num_crowded_val = num_val // CROWDED_EVERY
    for split, plain, crowded, streams in (('train2017', num_train, num_crowded_train, (0, 4)),
                                           ('val2017', num_val, num_crowded_val, (1, 3))):
        rng, crowded_rng = (np.random.default_rng([seed, stream]) for stream in streams)
        write_coco_stuff_split(root, split, itertools.chain(
            (draw_convergence_scene(rng, size, size) for _ in range(plain)),
            (draw_crowded_scene(crowded_rng, size, size) for _ in range(crowded))))
    return root


def class_prompt_captions(names: Sequence[str],
                          templates: Sequence[str] = CAPTION_TEMPLATES) -> Tuple[List[str],
                                                                                 List[int]]:
    """Every (template, name) caption and the index of its name."""
    captions, targets = [], []
    for k, name in enumerate(names):
        for template in templates:
            captions.append(template.format(name))
            targets.append(k)
    return captions, targets


def train_text_tower(clip_dir: str, names: Sequence[str], *, steps: int = 150,
                     temperature: float = 0.1, lr: float = 3e-3, seed: int = 0,
                     out_dir: Optional[str] = None) -> str:
    """Train the text tower of the HF CLIP in ``clip_dir`` to tell ``names`` apart; save it.

    Captions of each name under :data:`CAPTION_TEMPLATES` are tokenized with CLIP's tokenizer
    (the one :class:`FrozenCLIPTextEncoder` uses) and their projected text features are
    classified against fixed random near-orthogonal unit vectors, one per name (cross-entropy
    of cosines / ``temperature``): a contrastive objective whose targets are known. Only the
    text tower and its projection change; the image tower is left as it is.

    Args:
        clip_dir: A ``save_pretrained`` directory of a ``CLIPModel``.
        names: The names to separate (include "unlabeled", CoSeg's padding class).
        out_dir: Where to save (default: ``clip_dir``, overwritten).

    Returns:
        The directory written.
    """
    import torch
    import torch.nn.functional as F
    from open_clip.tokenizer import SimpleTokenizer
    from transformers import CLIPModel
    torch.manual_seed(seed)
    model = CLIPModel.from_pretrained(clip_dir)
    captions, targets = class_prompt_captions(names)
    tokens = SimpleTokenizer(context_length=model.config.text_config.max_position_embeddings)(
        captions)
    dim = model.config.projection_dim
    anchors = torch.randn(max(dim, len(names)), dim)
    if len(names) <= dim:  # orthonormal rows when there is room for them
        anchors = torch.linalg.qr(anchors.t())[0].t()
    anchors = F.normalize(anchors[:len(names)], dim=-1)
    params = list(model.text_model.parameters()) + list(model.text_projection.parameters())
    optimizer = torch.optim.Adam(params, lr=lr)
    labels = torch.tensor(targets)
    model.train()
    for _ in range(steps):
        feats = model.get_text_features(input_ids=tokens)
        feats = getattr(feats, 'pooler_output', feats)
        logits = F.normalize(feats, dim=-1) @ anchors.t() / temperature
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval().save_pretrained(out_dir or clip_dir)
    return out_dir or clip_dir


def make_convergence_clip(out_dir: str, names: Sequence[str] = CONVERGENCE_NAMES, *,
                          seed: int = 0, train_text: bool = True,
                          unlabeled_name: str = 'unlabeled') -> str:
    """A tiny CLIP (8 px patches, 128 px) in HF format; its text tower taught ``names``."""
    from .tiny_assets import make_tiny_hf_clip
    make_tiny_hf_clip(out_dir, seed=seed, vision=CONVERGENCE_VISION)
    if train_text:
        train_text_tower(out_dir, tuple(names) + (unlabeled_name, ), seed=seed)
    return out_dir


def make_convergence_assets(out_dir: str, *, seed: int = 0, num_train: int = 600,
                            num_val: int = 100, num_crowded_train: int = 0) -> Dict[str, str]:
    """The benchmark's data and CLIPs under ``out_dir`` (idempotent: what exists is kept).

    ``clip``: text tower trained on the class prompts; ``clip_random_text``: the same CLIP
    with its random text tower (the ablation of naming). Scenes already there with other
    counts (other arguments, or an older version without crowded scenes) are refused.
    """
    paths = dict(coco_stuff=os.path.join(out_dir, 'coco_stuff164k'),
                 clip=os.path.join(out_dir, 'clip'),
                 clip_random_text=os.path.join(out_dir, 'clip_random_text'),
                 demo_image=os.path.join(out_dir, 'demo.jpg'))
    if not os.path.isdir(os.path.join(paths['coco_stuff'], 'annotations')):
        make_convergence_cocostuff(paths['coco_stuff'], num_train=num_train, num_val=num_val,
                                   num_crowded_train=num_crowded_train, seed=seed)
    for split, count in (('train2017', num_train + num_crowded_train),
                         ('val2017', num_val + num_val // CROWDED_EVERY)):
        folder = os.path.join(paths['coco_stuff'], 'images', split)
        found = len(os.listdir(folder)) if os.path.isdir(folder) else 0
        if found != count:
            raise UserError(f'{folder} holds {found} scenes, not the {count} this benchmark '
                            f'writes: delete {paths["coco_stuff"]} and run again')
    if not os.path.isfile(os.path.join(paths['clip'], 'config.json')):
        make_convergence_clip(paths['clip'], seed=seed)
    if not os.path.isfile(os.path.join(paths['clip_random_text'], 'config.json')):
        make_convergence_clip(paths['clip_random_text'], seed=seed, train_text=False)
    if not os.path.isfile(paths['demo_image']):
        write_demo_scene(paths['demo_image'], seed=seed)
    return paths


def write_demo_scene(path: str, *, seed: int = 0, scale: int = 3) -> str:
    """A held-out scene for tools/demo.py (its labels beside it as ``*_labelTrainIds.png``).

    Drawn at the benchmark's 128 px from a stream of its own, then enlarged ``scale`` times
    with nearest-neighbour sampling, so the configs' resize to 128 px gives the scene back.
    """
    import cv2
    image, label = draw_convergence_scene(np.random.default_rng([seed, 2]))
    size = (image.shape[1] * scale, image.shape[0] * scale)
    cv2.imwrite(path, cv2.resize(image, size, interpolation=cv2.INTER_NEAREST),
                [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(os.path.splitext(path)[0] + '_labelTrainIds.png',
                cv2.resize(label, size, interpolation=cv2.INTER_NEAREST))
    return path


__all__ = ['CONVERGENCE_IDS', 'CONVERGENCE_NAMES', 'CONVERGENCE_VISION', 'CROWDED_MIN_CLASSES',
           'TINY_PROJECTION_DIM', 'TINY_TEXT', 'draw_convergence_scene', 'draw_crowded_scene',
           'make_convergence_assets', 'make_convergence_clip', 'make_convergence_cocostuff',
           'train_text_tower', 'write_demo_scene']
