"""Does CoSeg learn? Train and test it on the convergence benchmark and print the table.

Generates the benchmark (tools/make_convergence_data.py) under ROOT/data/convergence, then,
for every config and seed, runs ``tools/train.py`` and ``tools/test.py`` as subprocesses in
ROOT (the configs name data/convergence/ relative to the working directory). The test's
evaluator is ``PresentClassIoUMetric`` (``IoUMetric`` plus two figures); its metrics are read
from the file mmengine writes in the test's work dir, never from printed tables: mIoU as
``IoUMetric`` reports it (every class with a prediction or a label counts: spurious classes
score 0), the mean IoU over the classes present in the validation labels, and the number of
spurious classes.

Usage:
    python tools/benchmarks/benchmark_convergence.py [--root work_dirs/convergence] [--seeds 0 1 2]
        [--configs prefix-set-matching xatten-set-matching | --recipes] [--ablation]
        [--jobs J] [--threads T]

``--recipes`` runs the comparison of docs/convergence.md: every recipe (the paper's, the
authors' released one, set matching with and without Dice) with both necks. ``--configs
prefix-set-matching-r18-mmseg prefix-set-matching-vit-mmseg``: the set-matching prefix row on
mmseg's own ResNetV1c and VisionTransformer, trained from scratch (docs/convergence.md).
``--jobs 2`` trains two runs side by side (give each ``--threads 1``). ``--ablation`` trains the paper's
prefix config once per variant, each undoing one ingredient of the benchmark (naming,
resolution, data) and tests the full model at several no-label thresholds: what held the
earlier tiny runs back (docs/convergence.md).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # train.py, test.py
REPO = os.path.dirname(TOOLS)
# The recipes compared (docs/convergence.md), as config-name infixes: the paper's area-ranked
# targets (no infix), the authors' released recipe, set matching without and with Dice.
RECIPES = ('', 'authors-recipe', 'set-matching', 'set-matching-dice')
CONVERGENCE_CONFIGS = os.path.join(REPO, 'configs/coseg/convergence')
RECIPE_CONFIGS = {
    f'{neck}-{recipe}'.rstrip('-'): os.path.join(
        CONVERGENCE_CONFIGS, f'coseg_{neck}_{recipe}_convergence.py'.replace('__', '_'))
    for neck in ('prefix', 'xatten') for recipe in RECIPES
}
# CoSeg-Prefix with set matching on mmseg's own backbones, trained from scratch through
# FeatureMapAdapter instead of the frozen CLIP image tower (--configs prefix-set-matching-*).
MMSEG_BACKBONES = ('r18-mmseg', 'vit-mmseg')
CONFIGS = {
    **RECIPE_CONFIGS,
    **{f'prefix-set-matching-{backbone}': os.path.join(
        CONVERGENCE_CONFIGS, f'coseg_prefix_set-matching_{backbone}_convergence.py')
       for backbone in MMSEG_BACKBONES},
}
# Each ablation undoes one ingredient of the benchmark (cfg-options on the prefix config).
SMALL_INPUT = 32  # 4 x 4 patches of 8 px: the tiny demo config's grid (64 px, 16 px patches)
ABLATIONS = {
    'benchmark': [],
    'random text tower (names alike)': [
        'model.text_encoder.init_cfg.checkpoint=data/convergence/clip_random_text'],
    f'input {SMALL_INPUT} px (4x4 patch grid)': [
        f'train_dataloader.dataset.pipeline.2.scale=({SMALL_INPUT},{SMALL_INPUT})',
        f'test_dataloader.dataset.pipeline.1.scale=({SMALL_INPUT},{SMALL_INPUT})'],
    'tiny demo setting (random text, 4x4 grid, 16 images)': [
        'model.text_encoder.init_cfg.checkpoint=data/convergence/clip_random_text',
        f'train_dataloader.dataset.pipeline.2.scale=({SMALL_INPUT},{SMALL_INPUT})',
        f'test_dataloader.dataset.pipeline.1.scale=({SMALL_INPUT},{SMALL_INPUT})',
        'train_dataloader.dataset.indices=16'],
}
THRESHOLDS = (0.0, 0.3, 0.5)
# The test's evaluator: IoUMetric's figures plus the present-class mIoU and the spurious classes.
TEST_METRIC = 'test_evaluator.type=PresentClassIoUMetric'


def run(cmd: List[str], cwd: str, log: str, threads: Optional[int]) -> Tuple[float, float]:
    """Run ``cmd`` in ``cwd``, output to ``log``; raise on failure.

    Returns:
        Wall seconds and CPU seconds (user + system) of the command: on a shared machine the
        second says what the run costs whatever the other processes do.
    """
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    if threads:
        env['OMP_NUM_THREADS'] = env['MKL_NUM_THREADS'] = str(threads)
    start = time.perf_counter()
    with open(log, 'w') as f:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, env=env)
        # This child's own usage (RUSAGE_CHILDREN would also count runs beside it, --jobs).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    if code:
        with open(log) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f'{" ".join(cmd)} failed (exit {code}); see {log}:\n{tail}')
    return seconds, cpu


def scores(metrics: Dict[str, float]) -> Dict[str, float]:
    """The table's figures from a test's metrics (``PresentClassIoUMetric``'s, as
    :func:`coseg_tools.benchmarking.read_test_metrics` reads them).

    ``mIoU`` is ``IoUMetric``'s percent rounded to 2 decimals in float32: rounding it again
    gives the figure it prints.
    """
    return dict(miou=round(metrics['mIoU'], 2), present_miou=metrics['present_mIoU'],
                spurious=int(metrics['spurious_classes']))


def train_and_test(root: str, config: str, tag: str, seed: int, options: Sequence[str],
                   threads: Optional[int], thresholds: Sequence[float] = (0.3, ),
                   reuse: bool = False) -> List[dict]:
    """Train ``config`` with ``seed``; test the last checkpoint at each no-label threshold.

    With ``reuse``, a run already trained under the same tag and seed is only tested again.
    """
    from coseg_tools.benchmarking import read_test_metrics
    work = os.path.join('work_dirs', f'{tag}_seed{seed}')
    train_cmd = [sys.executable, os.path.join(TOOLS, 'train.py'), config, '--work-dir', work,
                 '--cfg-options', f'randomness.seed={seed}', *options]
    os.makedirs(os.path.join(root, work), exist_ok=True)
    done = os.path.join(root, work, 'train_seconds.txt')
    if reuse and os.path.isfile(done):  # trained by an earlier call with the same command
        with open(done) as f:
            train_s, train_cpu = map(float, f.read().split())
    else:
        train_s, train_cpu = run(train_cmd, root, os.path.join(root, work, 'train.log'),
                                 threads)
        with open(done, 'w') as f:
            f.write(f'{train_s} {train_cpu}')
    with open(os.path.join(root, work, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()  # relative to root, like the work dir
    rows = []
    for threshold in thresholds:
        log = os.path.join(root, work, f'test_thr{threshold}.log')
        test_dir = os.path.join(work, f'test_thr{threshold}')
        test_cmd = [sys.executable, os.path.join(TOOLS, 'test.py'), config, checkpoint,
                    '--work-dir', test_dir, '--cfg-options', TEST_METRIC,
                    f'model.decode_head.mask_threshold={threshold}', *options]
        test_s, _ = run(test_cmd, root, log, threads)
        metrics = read_test_metrics(os.path.join(root, test_dir))
        if metrics is None:
            raise RuntimeError(f'{" ".join(test_cmd)} wrote no metrics file under '
                               f'{os.path.join(root, test_dir)}; see {log}')
        rows.append(dict(tag=tag, seed=seed, threshold=threshold, train_s=round(train_s, 1),
                         train_cpu_s=round(train_cpu, 1),
                         test_s=round(test_s, 1), checkpoint=checkpoint, **scores(metrics),
                         command=' '.join(os.path.relpath(c, REPO) if c.startswith(REPO)
                                          else c for c in train_cmd)))
    return rows


def held_out_slots(root: str, config: str, checkpoint: str,
                   num_images: Optional[int] = None) -> Tuple[tuple, list]:
    """The trained model's slots on the held-out scenes of ROOT/data/convergence.

    Returns:
        The vocabulary (class names, index i = label i) and, per scene, its label map (H, W)
        of class indices (255: none) and its slots as ``(label index, mask)`` pairs: the
        index of the slot's best label (``len(names)`` for "unlabeled") and its mask
        (probability > 0.5) at the label map's size.
    """
    import cv2
    import numpy as np
    import torch
    from coseg_mmseg.apis import init_model, slot_predictions
    from coseg_tools.generators.convergence import CONVERGENCE_IDS
    cwd = os.getcwd()
    os.chdir(root)
    try:
        model = init_model(config, checkpoint, device='cpu')
        names = tuple(model.cfg.model.test_vocabulary)
        lut = np.full(256, 255, np.int64)
        lut[list(CONVERGENCE_IDS)] = np.arange(len(CONVERGENCE_IDS))
        folder = 'data/convergence/coco_stuff164k'
        files = sorted(os.listdir(os.path.join(folder, 'images/val2017')))[:num_images]
        scenes = []
        for file in files:
            gt = lut[cv2.imread(os.path.join(folder, 'annotations/val2017',
                                             file[:-4] + '_labelTrainIds.png'), 0)]
            with torch.no_grad():
                slots = slot_predictions(model, os.path.join(folder, 'images/val2017', file),
                                         names)
            scenes.append((gt, [(names.index(slot['labels'][0][0])
                                 if slot['labels'][0][0] in names else len(names),
                                 cv2.resize(slot['mask'], gt.shape[::-1]) > 0.5)
                                for slot in slots]))
        return names, scenes
    finally:
        os.chdir(cwd)


def slot_report(root: str, config: str, checkpoint: str, num_images: int = 50) -> List[dict]:
    """Print, per slot, how it names and draws on the held-out scenes.

    Slot k's training target is the k-th largest class of the image (or "unlabeled"). For
    each slot: how often its best label is that target, how often it names a class present
    in the image, and the IoU of its mask (probability > 0.5, at the label's size) with the
    class it names, averaged over the slots naming a present class.
    """
    import numpy as np
    names, scenes = held_out_slots(root, config, checkpoint, num_images)
    stats = [dict(target=0, present=0, iou=[]) for _ in scenes[0][1]]
    for gt, slots in scenes:
        classes, areas = np.unique(gt[gt < 255], return_counts=True)
        ranked = list(classes[np.argsort(-areas, kind='stable')])
        for k, (index, mask) in enumerate(slots):
            target = ranked[k] if k < len(ranked) else len(names)
            stats[k]['target'] += index == target
            if index in ranked:
                stats[k]['present'] += 1
                truth = gt == index
                stats[k]['iou'].append((mask & truth).sum() / max((mask | truth).sum(), 1))
    print(f'\nslots of {os.path.relpath(config, REPO)} ({checkpoint}) on {len(scenes)} '
          f'held-out scenes: slot | names its target | names a present class | mask IoU '
          f'with the class it names')
    for k, st in enumerate(stats):
        iou = f'{100 * np.mean(st["iou"]):.1f}' if st['iou'] else '-'
        print(f'  {k:>4} | {100 * st["target"] / len(scenes):5.1f} % | '
              f'{100 * st["present"] / len(scenes):5.1f} % | {iou}', flush=True)
    return [dict(target=100 * st['target'] / len(scenes),
                 present=100 * st['present'] / len(scenes),
                 iou=100 * float(np.mean(st['iou'])) if st['iou'] else None)
            for st in stats]


def class_report(root: str, config: str, checkpoint: str,
                 held_out: Optional[Tuple[tuple, list]] = None) -> List[dict]:
    """Print, per class, how the slots find and draw it on the held-out scenes.

    For each class: the scenes holding it, how often some slot names it there (found), how
    many scenes without it have a slot naming it (false), and the IoU with the class of the
    union of the masks (probability > 0.5) of the slots naming it, over the scenes where it
    is found. Unlike :func:`slot_report`, nothing here depends on the target assignment.
    ``held_out``: what :func:`held_out_slots` returned for this checkpoint, if at hand.
    """
    import numpy as np
    names, scenes = held_out or held_out_slots(root, config, checkpoint)
    stats = [dict(scenes=0, found=0, false=0, iou=[]) for _ in names]
    for gt, slots in scenes:
        masks = {}  # class index -> union of the masks of the slots naming it
        for index, mask in slots:
            if index < len(names):
                masks[index] = masks.get(index, False) | mask
        for index, st in enumerate(stats):
            truth = gt == index
            if not truth.any():
                st['false'] += index in masks
                continue
            st['scenes'] += 1
            if index in masks:
                st['found'] += 1
                st['iou'].append((masks[index] & truth).sum() / (masks[index] | truth).sum())
    print(f'\nclasses of {os.path.relpath(config, REPO)} ({checkpoint}) on {len(scenes)} '
          f'held-out scenes: class | scenes | found | false | mask IoU where found')
    rows = []
    for name, st in zip(names, stats):
        found = 100 * st['found'] / max(st['scenes'], 1)
        iou = 100 * float(np.mean(st['iou'])) if st['iou'] else None
        print(f'  {name:>12} | {st["scenes"]:>4} | {found:5.1f} % | {st["false"]:>3} | '
              f'{"-" if iou is None else f"{iou:.1f}"}', flush=True)
        rows.append(dict(name=name, scenes=st['scenes'], found=found, false=st['false'],
                         iou=iou))
    crowded = crowded_summary(scenes)
    if crowded['scenes']:
        print(f'  scenes holding more classes than the {crowded["slots"]} slots: '
              f'{crowded["scenes"]}, {crowded["classes"]:.1f} classes each, '
              f'{crowded["named"]:.1f} of them named', flush=True)
    return rows


def crowded_summary(scenes: list) -> dict:
    """Over the scenes of :func:`held_out_slots` holding more classes than there are slots:
    their number, and the mean number of classes each holds and of those some slot names."""
    import numpy as np
    slots = len(scenes[0][1])
    classes, named = [], []
    for gt, scene_slots in scenes:
        present = set(np.unique(gt[gt < 255]).tolist())
        if len(present) > slots:
            classes.append(len(present))
            named.append(len(present & {index for index, _ in scene_slots}))
    return dict(slots=slots, scenes=len(classes),
                classes=float(np.mean(classes)) if classes else 0.0,
                named=float(np.mean(named)) if named else 0.0)


def load_average() -> str:
    """The 1-minute load average of the machine (other processes share its cores)."""
    try:
        return f'{os.getloadavg()[0]:.1f}'
    except OSError:
        return '?'


def print_rows(rows: List[dict]) -> None:
    print(f'{"run":<55} {"seed":>4} {"thr":>4} {"train s":>8} {"cpu s":>7} {"mIoU":>6} '
          f'{"present":>7} {"spur.":>5}')
    for r in rows:
        print(f'{r["tag"]:<55} {r["seed"]:>4} {r["threshold"]:>4} {r["train_s"]:>8} '
              f'{r["train_cpu_s"]:>7} {r["miou"]:>6} {r["present_miou"]:>7} '
              f'{r["spurious"]:>5}', flush=True)


def summarise(rows: List[dict]) -> None:
    """Mean and spread (min-max) per run tag over seeds."""
    print('\nsummary (threshold 0.3): mean [min, max] over seeds')
    for tag in dict.fromkeys(r['tag'] for r in rows):
        sel = [r for r in rows if r['tag'] == tag and r['threshold'] == 0.3]
        if not sel:
            continue
        parts = []
        for key in ('miou', 'present_miou', 'train_s', 'train_cpu_s'):
            values = [r[key] for r in sel]
            parts.append(f'{key} {statistics.mean(values):.2f} '
                         f'[{min(values):.2f}, {max(values):.2f}]')
        print(f'{tag:<55} n={len(sel)}  ' + '  '.join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', default='work_dirs/convergence',
                        help='working folder: data/convergence and work_dirs/ go under it')
    parser.add_argument('--configs', nargs='+', default=['prefix-set-matching',
                                                         'xatten-set-matching'],
                        choices=list(CONFIGS))
    parser.add_argument('--recipes', action='store_true',
                        help='every recipe with both necks: the comparison table')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--ablation', action='store_true',
                        help='the ablation table instead (prefix config, first seed)')
    parser.add_argument('--data-seed', type=int, default=0)
    parser.add_argument('--crowded-train', type=int, default=0,
                        help='crowded scenes (more classes than slots) added to the training '
                             'scenes (give each such data its own --root)')
    parser.add_argument('--jobs', type=int, default=1, help='runs trained side by side')
    parser.add_argument('--threads', type=int, help='OMP_NUM_THREADS of the runs')
    parser.add_argument('--reuse', action='store_true',
                        help='test again the runs already trained under ROOT instead of '
                             'training them again')
    from coseg_tools.cli import add_debug_argument
    add_debug_argument(parser)
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    os.makedirs(root, exist_ok=True)
    from coseg_tools.generators.convergence import make_convergence_assets
    start = time.perf_counter()
    make_convergence_assets(os.path.join(root, 'data', 'convergence'), seed=args.data_seed,
                            num_crowded_train=args.crowded_train)
    print(f'data and CLIPs ready in {time.perf_counter() - start:.0f} s; cores: '
          f'{os.cpu_count()}, jobs: {args.jobs}, threads: {args.threads}, load average at '
          f'start: {load_average()}', flush=True)
    rows = []
    if args.ablation:
        for name, options in ABLATIONS.items():
            thresholds = THRESHOLDS if name == 'benchmark' else (0.3, )
            # the benchmark row is the prefix run of the main table (same command)
            tag = 'prefix' if not options else 'ablation_' + re.sub(
                r'\W+', '-', name.split(' (')[0]).strip('-')
            new = train_and_test(root, CONFIGS['prefix'], tag, args.seeds[0], options,
                                 args.threads, thresholds, reuse=args.reuse)
            for r in new:
                r['tag'] = name
            print_rows(new)
            rows += new
            if name == 'benchmark':
                slot_report(root, CONFIGS['prefix'], new[0]['checkpoint'])
    else:
        keys = list(RECIPE_CONFIGS) if args.recipes else args.configs
        runs = [(key, seed) for key in keys for seed in args.seeds]

        def one(run: Tuple[str, int]) -> List[dict]:
            new = train_and_test(root, CONFIGS[run[0]], run[0], run[1], [], args.threads,
                                 reuse=args.reuse)
            print_rows(new)
            return new

        with ThreadPoolExecutor(args.jobs) as pool:
            for new in pool.map(one, runs):
                rows += new
        for key in keys:
            first = next(r for r in rows if r['tag'] == key)
            class_report(root, CONFIGS[key], first['checkpoint'])
    print(f'\nload average at the end: {load_average()}\n')
    print_rows(rows)
    summarise(rows)
    print('\ncommands:')
    for command in dict.fromkeys(r['command'] for r in rows):
        print('  ' + command)


if __name__ == '__main__':
    sys.path.insert(0, REPO)  # run from a checkout without installing the plugin
    from coseg_tools.cli import run_tool
    run_tool(main)
