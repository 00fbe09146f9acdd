"""The open world's make-test guard: a short run that must still name unseen classes.

A small world (fewer scenes, a shorter CLIP pretraining) and a short training of the main
config (CoSeg-Prefix, set matching) through ``tools/train.py``, then its cross-vocabulary
test (``val_unseen`` under the unseen names) and its generalized test through
``tools/test.py``, metrics read from mmengine's metrics files. The guard test
(tests/coseg_tools/open_world/test_guard.py) asserts bounds between this run and the same run
with the text path broken on purpose:

- ``random text``: the CLIP's text tower left untrained (training and test);
- ``shuffled names``: the trained checkpoint tested with the unseen names permuted (each
  class is asked for by another class's name).

Usage (measures every variant; the values and the command go to
docs/benchmarks/open_world_guard_cpu.txt):
    python -m coseg_tools.open_world.guard --root work_dirs/open_world_guard
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(REPO, 'configs/coseg/open_world/coseg_prefix_set-matching_open-world.py')
CROSS_CONFIG = os.path.join(
    REPO, 'configs/coseg/open_world/zero-shot/coseg_prefix_set-matching_open-world_cross-vocab.py')
# The guard's world and run: small enough for make test, large enough to tell broken apart.
WORLD = dict(num_train=160, num_val=24, clip_args=dict(steps=120, pool_size=1500))
ITERS = 300
SHORT = [f'train_cfg.max_iters={ITERS}', f'train_cfg.val_interval={ITERS}',
         f'param_scheduler.0.end={ITERS}', f'default_hooks.checkpoint.interval={ITERS}',
         'default_hooks.logger.interval=50', 'randomness.seed=0']
RANDOM_TEXT = ['model.text_encoder.init_cfg.checkpoint=data/open_world/clip_random_text']
VARIANTS = ('ok', 'random text', 'shuffled names')


def run_tool(tool: str, args: Sequence[str], cwd: str) -> str:
    """``tools/<tool>`` with this interpreter in ``cwd``; its output, or RuntimeError."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    proc = subprocess.run([sys.executable, os.path.join(REPO, 'tools', tool), *args], cwd=cwd,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode:
        raise RuntimeError(f'tools/{tool} {" ".join(args)} failed in {cwd}:\n'
                           f'{proc.stdout[-4000:]}')
    return proc.stdout


def test_metrics(work_dir: str) -> Dict[str, float]:
    """The metrics mmengine wrote after the test run in ``work_dir``."""
    files = [f for f in glob.glob(os.path.join(work_dir, '*', '*.json'))
             if os.path.basename(f)[:-5] == os.path.basename(os.path.dirname(f))]
    if not files:
        raise RuntimeError(f'no metrics file under {work_dir}')
    with open(sorted(files)[-1]) as f:
        return json.loads(f.read().splitlines()[-1])


def make_guard_world(root: str) -> dict:
    """The guard's world under ``root/data/open_world`` (reused when it exists); its split."""
    from .assets import make_open_world
    make_open_world(os.path.join(root, 'data', 'open_world'), log=lambda _: None, **WORLD)
    with open(os.path.join(root, 'data', 'open_world', 'scenes', 'split.json')) as f:
        return json.load(f)


def shuffled_names_config(root: str, unseen: List[str]) -> str:
    """A cross-vocabulary config whose test vocabulary is the unseen names rotated by one
    (each class asked for by the next class's name); its path under ``root``."""
    names = unseen[1:] + unseen[:1]
    path = os.path.join(root, 'cross_vocab_shuffled_names.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{CROSS_CONFIG!r}]\nmodel = dict(test_vocabulary={names!r})\n')
    return path


def run_variant(root: str, variant: str = 'ok') -> Dict[str, float]:
    """Train (or reuse) and test one variant in ``root``; returns its figures: ``cross``
    (cross-vocabulary mIoU), ``seen``, ``unseen``, ``hIoU`` (generalized; not for
    ``shuffled names``) and ``seconds`` (this call's, world included)."""
    if variant not in VARIANTS:
        raise ValueError(f'variant must be one of {VARIANTS}, got {variant!r}')
    start = time.perf_counter()
    split = make_guard_world(root)
    options = RANDOM_TEXT if variant == 'random text' else []
    work = 'random_text' if variant == 'random text' else 'ok'
    if not os.path.isfile(os.path.join(root, work, f'iter_{ITERS}.pth')):
        run_tool('train.py', [CONFIG, '--work-dir', work, '--cfg-options', *SHORT, *options],
                 root)
    checkpoint = os.path.join(work, f'iter_{ITERS}.pth')
    tag = variant.replace(' ', '_')
    cross = CROSS_CONFIG if variant != 'shuffled names' else shuffled_names_config(
        root, split['unseen'])
    test_options = ['--cfg-options', *options] if options else []
    run_tool('test.py', [cross, checkpoint, '--work-dir', f'{tag}_cross', *test_options], root)
    result = dict(cross=test_metrics(os.path.join(root, f'{tag}_cross'))['mIoU'])
    if variant != 'shuffled names':  # its generalized test would be the working run's
        run_tool('test.py', [CONFIG, checkpoint, '--work-dir', f'{tag}_mixed', *test_options],
                 root)
        mixed = test_metrics(os.path.join(root, f'{tag}_mixed'))
        result.update(seen=mixed['seen_mIoU'], unseen=mixed['unseen_mIoU'], hIoU=mixed['hIoU'])
    result['seconds'] = round(time.perf_counter() - start, 1)
    return result


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', default='work_dirs/open_world_guard')
    parser.add_argument('--variants', nargs='+', choices=VARIANTS, default=list(VARIANTS))
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    os.makedirs(root, exist_ok=True)
    print(f'world {WORLD}, {ITERS} iterations of {os.path.relpath(CONFIG, REPO)}; load average '
          f'{os.getloadavg()[0]:.1f}', flush=True)
    for variant in args.variants:
        print(f'{variant}: {run_variant(root, variant)}', flush=True)


if __name__ == '__main__':
    main()
