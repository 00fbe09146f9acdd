"""What ``make demo`` gives tools/demo.py in the open world: a held-out scene mixing seen and
unseen classes, the vocabulary (all names) and the names to mark unseen.

Usage:
    python -m coseg_tools.open_world.demo_inputs --scenes data/open_world/scenes --out DIR
        [--scale 3]

Writes ``DIR/scene.png`` (the chosen ``val_mixed`` scene, enlarged ``--scale`` times with
nearest neighbours so that the legend fits; the model resizes it back), ``DIR/scene_labels.png``
(its label map, global ids), ``DIR/vocab.txt`` (every class, one per line: tools/demo.py's
``--vocab @DIR/vocab.txt``) and ``DIR/unseen.txt`` (the split's unseen names:
``--mark-unseen @DIR/unseen.txt``), and prints the scene's classes, seen and unseen.
"""
import argparse
import os
from typing import Dict, List

import cv2
import numpy as np

from .dataset import read_split

IGNORE = 255


def choose_scene(scenes_dir: str, split: dict, limit: int = 200) -> str:
    """The ``val_mixed`` scene (of the first ``limit``, by name) holding the most unseen
    classes among those holding at least two seen ones; ties: more classes, then the first."""
    folder = os.path.join(scenes_dir, 'ann_dir', 'val_mixed')
    files = sorted(f for f in os.listdir(folder) if f.endswith('.png'))[:limit]
    if not files:
        raise FileNotFoundError(2, 'No val_mixed scene (make the world again)', folder)
    classes, unseen = split['classes'], set(split['unseen'])
    best, best_key = files[0], None
    for file in files:
        ids = [int(i) for i in np.unique(cv2.imread(os.path.join(folder, file), 0))
               if i != IGNORE]
        n_unseen = sum(classes[i] in unseen for i in ids)
        key = (len(ids) - n_unseen >= 2, n_unseen, len(ids))
        if best_key is None or key > best_key:
            best, best_key = file, key
    return best


def write_demo_inputs(scenes_dir: str, out_dir: str, scale: int = 3) -> Dict[str, List[str]]:
    """Write the demo's scene, label map, vocabulary and unseen names to ``out_dir``.

    Returns:
        ``seen`` and ``unseen``: the scene's classes of each kind, in global id order.
    """
    split = read_split(scenes_dir)
    file = choose_scene(scenes_dir, split)
    image = cv2.imread(os.path.join(scenes_dir, 'img_dir', 'val_mixed', file))
    label = cv2.imread(os.path.join(scenes_dir, 'ann_dir', 'val_mixed', file), 0)
    os.makedirs(out_dir, exist_ok=True)
    size = (image.shape[1] * scale, image.shape[0] * scale)
    cv2.imwrite(os.path.join(out_dir, 'scene.png'),
                cv2.resize(image, size, interpolation=cv2.INTER_NEAREST))
    cv2.imwrite(os.path.join(out_dir, 'scene_labels.png'),
                cv2.resize(label, size, interpolation=cv2.INTER_NEAREST))
    for name, names in (('vocab.txt', split['classes']), ('unseen.txt', split['unseen'])):
        with open(os.path.join(out_dir, name), 'w') as f:
            f.write(''.join(n + '\n' for n in names))
    present = [split['classes'][int(i)] for i in np.unique(label) if i != IGNORE]
    return dict(scene=os.path.join('val_mixed', file),
                seen=[n for n in present if n not in split['unseen']],
                unseen=[n for n in present if n in split['unseen']])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--scenes', default='data/open_world/scenes')
    parser.add_argument('--out', required=True)
    parser.add_argument('--scale', type=int, default=3)
    args = parser.parse_args()
    chosen = write_demo_inputs(args.scenes, args.out, args.scale)
    print(f'demo scene {chosen["scene"]} -> {os.path.join(args.out, "scene.png")}: seen '
          f'classes {", ".join(chosen["seen"]) or "none"}; unseen (never in a training mask) '
          f'{", ".join(chosen["unseen"]) or "none"}')


if __name__ == '__main__':
    from coseg_tools.cli import run_tool
    run_tool(main)
