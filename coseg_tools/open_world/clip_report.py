"""What the world's CLIP knows before any segmentation training.

- Image-level zero-shot accuracy: single-class images (:func:`world.draw_single`, a stream of
  their own, never seen in pretraining) classified by cosine between the pooled image
  embedding and the prompt embeddings ("a photo of a {}."), among the unseen names, among the
  seen names and among all names.
- The dense floor (MaskCLIP-style, no training): every patch token as the backbone outputs
  it (final tokens through ``ln_post`` and the visual projection) is named by its nearest
  text embedding, the (h, w) map of names is upsampled to the image (nearest) and scored by
  mmseg's ``IoUMetric`` on the ``val_unseen`` scenes (vocabulary: the unseen names) and the
  ``val_mixed`` scenes (vocabulary: all names; mIoU over seen, over unseen, and their
  harmonic mean).
- The text space (:func:`text_space`): how close each name's prompt embedding lies to its
  nearest other name, and whether the embeddings compose: an additive word model fitted on
  the seen names only, asked for the unseen names.

The CLIP is read only through the plugin's real loaders: ``FrozenCLIPBackbone`` and
``FrozenCLIPTextEncoder`` with ``init_cfg=dict(type='CLIPPretrained', source='huggingface')``.
"""
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import world
from .clip_pretraining import to_pixel_values

PROMPT = 'a photo of a {}.'


def load_world_clip(clip_dir: str):
    """(FrozenCLIPBackbone, FrozenCLIPTextEncoder) of a ``save_pretrained`` CLIP directory,
    sized from its ``config.json``, weights through ``CLIPPretrained``."""
    from transformers import CLIPConfig

    import coseg_mmseg  # noqa: F401  (registers the plugin's modules)
    from mmseg.registry import MODELS
    config = CLIPConfig.from_pretrained(clip_dir)
    vision, text = config.vision_config, config.text_config
    init_cfg = dict(type='CLIPPretrained', source='huggingface', checkpoint=clip_dir)
    backbone = MODELS.build(dict(
        type='FrozenCLIPBackbone', image_size=vision.image_size, patch_size=vision.patch_size,
        embed_dims=vision.hidden_size, num_layers=vision.num_hidden_layers,
        num_heads=vision.num_attention_heads, output_dim=config.projection_dim,
        mlp_ratio=vision.intermediate_size / vision.hidden_size,
        out_indices=(vision.num_hidden_layers - 1, ), init_cfg=init_cfg))
    text_encoder = MODELS.build(dict(
        type='FrozenCLIPTextEncoder', embed_dims=text.hidden_size,
        num_layers=text.num_hidden_layers, num_heads=text.num_attention_heads,
        output_dim=config.projection_dim, mlp_ratio=text.intermediate_size / text.hidden_size,
        templates=(PROMPT, ), disk_cache=False, init_cfg=init_cfg))
    backbone.init_weights()
    text_encoder.init_weights()
    return backbone, text_encoder


def _encode_images(backbone, images: np.ndarray, batch: int = 64):
    """(N, H, W, 3) RGB uint8 -> (pooled (N, D), patch tokens (N, L, D), grid)."""
    import torch
    pooled, tokens, grid = [], [], None
    with torch.no_grad():
        for i in range(0, len(images), batch):
            out = backbone(to_pixel_values(images[i:i + batch]))
            pooled.append(out['image_embed'])
            tokens.append(out['visual_tokens'])
            grid = out['grid']
    return torch.cat(pooled), torch.cat(tokens), grid


def zero_shot_accuracy(backbone, text_encoder, split: Dict, *, per_class: int = 10,
                       seed: int = 0) -> Dict[str, float]:
    """Top-1 accuracy (%) of single-class images, by CLIP's image-level zero-shot rule.

    Returns:
        ``unseen_among_unseen``, ``unseen_among_all``, ``seen_among_seen``,
        ``seen_among_all``: accuracy of images of the unseen (seen) classes classified among
        the unseen (seen) names only or among all names.
    """
    import torch.nn.functional as F
    classes = split['classes']
    rng = np.random.default_rng([seed, 7])
    ids = [c for c in range(len(classes)) for _ in range(per_class)]
    images = np.stack([world.draw_single(rng, c, classes=classes)[0] for c in ids])
    pooled = F.normalize(_encode_images(backbone, images)[0], dim=-1)  # (N, D)
    text = text_encoder(list(classes))  # (K, D), unit norm
    scores = pooled @ text.t()  # (N, K)
    ids = np.asarray(ids)
    index = {c: i for i, c in enumerate(classes)}
    result = {}
    for group in ('unseen', 'seen'):
        members = np.asarray([index[c] for c in split[group]])
        rows = np.isin(ids, members)
        among_group = members[scores[rows][:, members].argmax(1).numpy()]
        among_all = scores[rows].argmax(1).numpy()
        result[f'{group}_among_{group}'] = 100.0 * float((among_group == ids[rows]).mean())
        result[f'{group}_among_all'] = 100.0 * float((among_all == ids[rows]).mean())
    return result


def dense_prediction(backbone, text_embeds, images: np.ndarray):
    """MaskCLIP-style labels: (N, H, W) long indices into ``text_embeds`` (K, D), each patch
    token named by its nearest text embedding (cosine) and upsampled (nearest) to the image."""
    import torch
    import torch.nn.functional as F
    _, tokens, (h, w) = _encode_images(backbone, images)
    scores = F.normalize(tokens, dim=-1) @ F.normalize(text_embeds, dim=-1).t()  # (N, L, K)
    labels = scores.argmax(-1).view(len(images), 1, h, w).float()
    size = images.shape[1:3]
    return F.interpolate(labels, size=size, mode='nearest')[:, 0].to(torch.long)


def read_scenes(scenes_dir: str, part: str, limit: Optional[int] = None
                ) -> Tuple[np.ndarray, np.ndarray]:
    """(N, H, W, 3) RGB uint8 images and (N, H, W) uint8 global-id labels of a part."""
    import cv2
    img_dir = os.path.join(scenes_dir, 'img_dir', part)
    names = sorted(os.listdir(img_dir))[:limit]
    images = np.stack([cv2.imread(os.path.join(img_dir, n))[..., ::-1] for n in names])
    labels = np.stack([cv2.imread(os.path.join(scenes_dir, 'ann_dir', part, n),
                                  cv2.IMREAD_UNCHANGED) for n in names])
    return images, labels


def to_vocabulary(label: np.ndarray, classes: Sequence[str], vocabulary: Sequence[str]
                  ) -> np.ndarray:
    """Global ids -> indices into ``vocabulary`` (classes outside it and 255 -> 255)."""
    lut = np.full(256, 255, np.int64)
    index = {c: i for i, c in enumerate(vocabulary)}
    for gid, name in enumerate(classes):
        if name in index:
            lut[gid] = index[name]
    return lut[label]


def iou_metric(pred: Sequence[np.ndarray], gt: Sequence[np.ndarray], vocabulary: Sequence[str]
               ) -> Tuple[Dict[str, float], np.ndarray]:
    """mmseg's ``IoUMetric`` over (pred, gt) maps of vocabulary indices; returns its summary
    (``mIoU``, ``aAcc``, ``mAcc``, in %) and the per-class IoU (%), NaN for classes absent
    from both prediction and ground truth."""
    import torch
    from mmseg.evaluation import IoUMetric
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=list(vocabulary))
    metric.results = []
    samples = [dict(pred_sem_seg=dict(data=torch.as_tensor(p)[None]),
                    gt_sem_seg=dict(data=torch.as_tensor(g.astype(np.int64))[None]))
               for p, g in zip(pred, gt)]
    metric.process([], samples)
    results = metric.results
    summary = metric.compute_metrics(results)
    total = [sum(r[i] for r in results) for i in range(4)]
    per_class = IoUMetric.total_area_to_metrics(*total, ['mIoU'])['IoU']
    return summary, 100.0 * np.asarray(per_class, np.float64)


def dense_floor(backbone, text_encoder, scenes_dir: str, split: Dict,
                limit: Optional[int] = None) -> Dict[str, float]:
    """The dense floor on the scenes of ``scenes_dir``.

    Returns:
        ``cross_mIoU``: mIoU on ``val_unseen`` with the unseen names as vocabulary;
        ``mixed_seen_mIoU``, ``mixed_unseen_mIoU``, ``mixed_hIoU``: on ``val_mixed`` with all
        names, mIoU over the seen and over the unseen classes present, harmonic mean; and
        ``mixed_mIoU`` over all.
    """
    classes = split['classes']
    result = {}
    images, labels = read_scenes(scenes_dir, 'val_unseen', limit)
    vocab = split['unseen']
    pred = dense_prediction(backbone, text_encoder(vocab), images).numpy()
    summary, _ = iou_metric(pred, [to_vocabulary(g, classes, vocab) for g in labels], vocab)
    result['cross_mIoU'] = float(summary['mIoU'])
    images, labels = read_scenes(scenes_dir, 'val_mixed', limit)
    pred = dense_prediction(backbone, text_encoder(classes), images).numpy()
    summary, per_class = iou_metric(pred, [g.astype(np.int64) for g in labels], classes)
    seen_idx = [i for i, c in enumerate(classes) if c in split['seen']]
    unseen_idx = [i for i, c in enumerate(classes) if c in split['unseen']]
    seen = float(np.nanmean(per_class[seen_idx]))
    unseen = float(np.nanmean(per_class[unseen_idx]))
    result.update(mixed_mIoU=float(summary['mIoU']), mixed_seen_mIoU=seen,
                  mixed_unseen_mIoU=unseen,
                  mixed_hIoU=2 * seen * unseen / (seen + unseen) if seen + unseen > 0 else 0.0)
    return result


def _as_array(embeds) -> np.ndarray:
    """(K, D) float64 numpy array of a numpy array or a (possibly CUDA, grad) tensor."""
    if hasattr(embeds, 'detach'):
        embeds = embeds.detach().cpu().numpy()
    return np.asarray(embeds, np.float64)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def text_space(embeds, names: Sequence[str], seen: Sequence[str], unseen: Sequence[str]
               ) -> Dict[str, float]:
    """How crowded the names' embeddings are, and whether they compose from word vectors.

    Nearest other name: for each name, the largest cosine between its embedding and that of
    any other name (its own cosine 1 excluded); the mean, min and max over all names.

    Additive word model: each seen name's embedding is fitted as ``bias + sum of one vector
    per word of the name`` (words split on spaces) by ordinary least squares, no ridge, on the
    seen names only: ``numpy.linalg.lstsq`` on a (n_seen, 1 + n_words) design of a ones
    column and one-hot word columns, so the minimum-norm solution where columns are collinear
    (the bias and each word group both sum to one per name). Each unseen name's embedding is
    then predicted from its words, and counted right when the actual embedding nearest to the
    prediction (cosine) is its own, among all ``names`` or among the ``unseen`` names only.

    Args:
        embeds: (K, D) embeddings of ``names`` (numpy array or tensor; need not be unit norm,
            cosines normalise them; the word model is fitted to them as given).
        names: the K names, in the order of ``embeds``.
        seen: names the word model is fitted on (a subset of ``names``).
        unseen: names it is asked for (a subset of ``names``).

    Returns:
        ``nearest_other_cosine`` (mean), ``nearest_other_cosine_min``,
        ``nearest_other_cosine_max``; ``additive_unseen_among_all`` and
        ``additive_unseen_among_unseen`` (%).

    Raises:
        ValueError: shapes that disagree, fewer than two names, a seen or unseen name not in
            ``names``, or an unseen name with a word that no seen name contains.
    """
    x = _as_array(embeds)
    names = list(names)
    if x.ndim != 2 or len(x) != len(names) or len(names) < 2:
        raise ValueError(f'embeds must be (K, D) for K >= 2 names; got {x.shape} for '
                         f'{len(names)} names')
    index = {n: i for i, n in enumerate(names)}
    missing = [n for n in list(seen) + list(unseen) if n not in index]
    if missing:
        raise ValueError(f'names not in names: {missing}')
    unit = _unit(x)
    cos = unit @ unit.T
    np.fill_diagonal(cos, -np.inf)
    nearest = cos.max(1)

    words = sorted({w for n in seen for w in n.split()})
    column = {w: 1 + j for j, w in enumerate(words)}
    for n in unseen:
        for w in n.split():
            if w not in column:
                raise ValueError(f'word {w!r} of unseen name {n!r} occurs in no seen name; '
                                 f'the additive word model cannot predict it')

    def design(group):
        rows = np.zeros((len(group), 1 + len(words)))
        rows[:, 0] = 1.0
        for r, n in enumerate(group):
            for w in n.split():
                rows[r, column[w]] += 1.0
        return rows

    coef = np.linalg.lstsq(design(seen), x[[index[n] for n in seen]], rcond=None)[0]
    predicted = _unit(design(unseen) @ coef)  # (n_unseen, D)
    own = np.asarray([index[n] for n in unseen])
    among_all = (predicted @ unit.T).argmax(1)  # indices into names
    among_unseen = own[(predicted @ unit[own].T).argmax(1)]
    return dict(nearest_other_cosine=float(nearest.mean()),
                nearest_other_cosine_min=float(nearest.min()),
                nearest_other_cosine_max=float(nearest.max()),
                additive_unseen_among_all=100.0 * float((among_all == own).mean()),
                additive_unseen_among_unseen=100.0 * float((among_unseen == own).mean()))


def text_space_report(text_encoder, split: Dict) -> Dict[str, float]:
    """:func:`text_space` of the prompt embeddings of the split's names."""
    import torch
    with torch.no_grad():
        embeds = text_encoder(list(split['classes']))
    return text_space(embeds, split['classes'], split['seen'], split['unseen'])


def clip_report(clip_dir: str, scenes_dir: str, *, per_class: int = 10,
                limit: Optional[int] = None) -> Dict:
    """Zero-shot accuracy and dense floor of the CLIP in ``clip_dir`` on the split and scenes
    of ``scenes_dir``.

    Returns:
        ``{"zero_shot": {"unseen_among_unseen", "unseen_among_all", "seen_among_seen",
        "seen_among_all"}, "dense_floor": {"val_unseen": {"mIoU"}, "val_mixed": {"mIoU",
        "seen", "unseen", "hIoU"}}, "text_space": {...}}`` (all in % but the cosines; the text
        space as :func:`text_space` returns it), plus the folders read.
    """
    split = world.read_split(os.path.join(scenes_dir, 'split.json'))
    backbone, text_encoder = load_world_clip(clip_dir)
    zero_shot = zero_shot_accuracy(backbone, text_encoder, split, per_class=per_class)
    dense = dense_floor(backbone, text_encoder, scenes_dir, split, limit)
    return dict(clip=clip_dir, scenes=scenes_dir, zero_shot=zero_shot, dense_floor=dict(
        val_unseen=dict(mIoU=dense['cross_mIoU']),
        val_mixed=dict(mIoU=dense['mixed_mIoU'], seen=dense['mixed_seen_mIoU'],
                       unseen=dense['mixed_unseen_mIoU'], hIoU=dense['mixed_hIoU'])),
        text_space=text_space_report(text_encoder, split))


def write_report(clip_dir: str, scenes_dir: str, path: str, **kwargs) -> Dict:
    """:func:`clip_report`, written as JSON to ``path``; returns it."""
    import json
    report = clip_report(clip_dir, scenes_dir, **kwargs)
    with open(path, 'w') as f:
        json.dump(report, f, indent=1)
    return report


def format_report(report: Dict, prefix: str = '') -> List[str]:
    """Lines of a report, one figure each (``dense_floor.val_mixed.hIoU: 12.3``; cosines to
    three decimals)."""
    lines = []
    for key, value in report.items():
        if isinstance(value, dict):
            lines += format_report(value, f'{prefix}{key}.')
        elif isinstance(value, float) and 'cosine' in key:
            lines.append(f'{prefix}{key}: {value:.3f}')
        elif isinstance(value, float):
            lines.append(f'{prefix}{key}: {value:.1f}')
        else:
            lines.append(f'{prefix}{key}: {value}')
    return lines


def main(argv: Optional[Sequence[str]] = None) -> None:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('clip_dir', help='a save_pretrained CLIP directory')
    parser.add_argument('scenes_dir', help='the scenes folder holding split.json')
    parser.add_argument('--text-space-only', action='store_true',
                        help='only the text space (no images encoded)')
    from coseg_tools.cli import add_debug_argument
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.text_space_only:
        split = world.read_split(os.path.join(args.scenes_dir, 'split.json'))
        _, text_encoder = load_world_clip(args.clip_dir)
        report = dict(clip=args.clip_dir, scenes=args.scenes_dir,
                      text_space=text_space_report(text_encoder, split))
    else:
        report = clip_report(args.clip_dir, args.scenes_dir)
    print('\n'.join(format_report(report)))


if __name__ == '__main__':
    from coseg_tools.cli import run_tool
    run_tool(main)
