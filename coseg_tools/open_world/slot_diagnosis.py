"""Why a checkpoint misses: are the masks wrong, or the names?

A CoSeg prediction is N masks, each named by its nearest class. mIoU mixes two failures: a
region no mask covers, and a region covered but named wrongly. This diagnosis separates them,
per ground-truth region of the open world's scenes, in four groups (seen / unseen x stuff /
thing):

- **mask IoU**: the IoU of the region with the slot mask (probability > 0.5) that overlaps it
  best — how well the decoder draws it, whatever the slot's name;
- **best slot named right**: whether that best-overlapping slot's top name is the region's
  class — how well the slot embeddings name what they cover;
- **some slot names it**: whether any slot of the image has the class as its top name.

Usage (in the folder the config's relative data paths start from)::

    python -m coseg_tools.open_world.slot_diagnosis CONFIG CHECKPOINT \\
        --scenes data/open_world/scenes --part val_mixed [--limit 40]

``val_mixed`` is read under all names, ``val_unseen`` under the unseen names, ``train``
under the seen names (the vocabularies of the generalized, cross-vocabulary and training
runs).
"""
import argparse
import glob
import os
from typing import Dict, List, Sequence

import numpy as np

from . import world

GROUPS = ('seen stuff', 'seen thing', 'unseen stuff', 'unseen thing')
PART_VOCABULARY = dict(val_mixed='classes', val_unseen='unseen', train='seen')


def score_regions(label: np.ndarray, slot_masks: np.ndarray, slot_names: Sequence[str],
                  unseen: Sequence[str], classes: Sequence[str] = world.CLASSES
                  ) -> List[Dict]:
    """One record per labelled region of a scene.

    Args:
        label: (H, W) global class ids, ``world.IGNORE_INDEX`` where nothing is labelled.
        slot_masks: (N, H, W) bool, each slot's mask.
        slot_names: N top names of the slots.
        unseen: The unseen class names.
        classes: Global id -> name.

    Returns:
        ``{"name", "group", "mask_iou", "best_named", "any_named"}`` per class present.
    """
    records = []
    for cls in np.unique(label):
        if cls == world.IGNORE_INDEX:
            continue
        name = classes[int(cls)]
        region = label == cls
        inter = (slot_masks & region).sum(axis=(1, 2))
        union = (slot_masks | region).sum(axis=(1, 2))
        ious = inter / np.maximum(union, 1)
        best = int(ious.argmax())
        kind = 'stuff' if world.is_stuff(name) else 'thing'
        records.append(dict(
            name=name, group=f"{'unseen' if name in unseen else 'seen'} {kind}",
            mask_iou=float(ious[best]), best_named=slot_names[best] == name,
            any_named=name in slot_names))
    return records


def summarise(records: Sequence[Dict]) -> Dict[str, Dict[str, float]]:
    """Per group: region count and the means (in %) of the three measures."""
    out = {}
    for group in GROUPS:
        rows = [r for r in records if r['group'] == group]
        if rows:
            out[group] = dict(
                regions=len(rows),
                mask_iou=100 * float(np.mean([r['mask_iou'] for r in rows])),
                best_named=100 * float(np.mean([r['best_named'] for r in rows])),
                any_named=100 * float(np.mean([r['any_named'] for r in rows])))
    return out


def diagnose(config: str, checkpoint: str, scenes: str, part: str = 'val_mixed',
             limit: int = 40) -> Dict[str, Dict[str, float]]:
    """:func:`summarise` of the first ``limit`` scenes of ``part`` under its vocabulary."""
    import cv2

    from coseg_mmseg.apis import init_model
    from coseg_mmseg.apis.inference import slot_predictions
    split = world.read_split(os.path.join(scenes, 'split.json'))
    vocabulary = split[PART_VOCABULARY[part]]
    model = init_model(config, checkpoint, device='cpu')
    records = []
    for path in sorted(glob.glob(os.path.join(scenes, 'img_dir', part, '*.png')))[:limit]:
        label = cv2.imread(path.replace(f'img_dir{os.sep}', f'ann_dir{os.sep}'),
                           cv2.IMREAD_UNCHANGED)
        slots = slot_predictions(model, path, vocabulary, top=1)
        masks = np.stack([s['mask'] > 0.5 for s in slots])
        if masks.shape[1:] != label.shape:
            raise ValueError(f'{path}: slot masks {masks.shape[1:]} but labels {label.shape}; '
                             f'the diagnosis needs scenes at the network size')
        records += score_regions(label, masks, [s['labels'][0][0] for s in slots],
                                 split['unseen'], split['classes'])
    return summarise(records)


def format_summary(summary: Dict[str, Dict[str, float]]) -> List[str]:
    lines = [f"{'regions':14s}    n  mask IoU  best slot named right  some slot names it"]
    for group, s in summary.items():
        lines.append(f"{group:14s} {s['regions']:4d}  {s['mask_iou']:8.1f}  "
                     f"{s['best_named']:20.1f} %  {s['any_named']:17.1f} %")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--scenes', default='data/open_world/scenes')
    parser.add_argument('--part', default='val_mixed', choices=list(PART_VOCABULARY))
    parser.add_argument('--limit', type=int, default=40, help='scenes read (first ones)')
    from coseg_tools.cli import add_debug_argument
    add_debug_argument(parser)
    args = parser.parse_args()
    summary = diagnose(args.config, args.checkpoint, args.scenes, args.part, args.limit)
    print(f'{args.part} (first {args.limit} scenes), {args.checkpoint}:')
    print('\n'.join(format_summary(summary)))


if __name__ == '__main__':
    from coseg_tools.cli import run_tool
    run_tool(main)
