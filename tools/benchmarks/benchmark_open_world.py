"""Does CoSeg name classes it never trained on? The open world's table (issue 24).

Makes the generated world (``tools/make_open_world_data.py``: scenes, a seeded seen / unseen
split and a contrastively trained tiny CLIP) under ROOT, then for every row and seed runs the
project's own tools as subprocesses in ROOT's folder of that split (the configs name
``data/open_world`` relative to the working directory):

- ``tools/train.py CONFIG`` (trained on the seen classes' scenes, seen names);
- ``tools/test.py CONFIG CKPT``: the generalized test (``val_mixed`` scenes, all names:
  seen / unseen mIoU and hIoU from ``SeenUnseenIoUMetric``);
- ``tools/test.py zero-shot/CONFIG_cross-vocab.py CKPT``: the cross-vocabulary test
  (``val_unseen`` scenes, unseen names).

Metrics are read from the metrics file mmengine writes in each test's work dir
(``<work dir>/<timestamp>/<timestamp>.json``), never from printed tables. The CLIP's dense
floor (patch tokens against the names, no training) comes from the world's own report. The
table, the targets of issue 24 §4 and the commands are printed and written, with everything
else this tool printed, to ``--out``.

Usage:
    python tools/benchmarks/benchmark_open_world.py [--root work_dirs/open_world] [--seeds 0 1 2]
        [--rows prefix-set-matching ...] [--split-seed 0] [--unseen-fraction 0.25]
        [--reuse] [--out docs/benchmarks/open_world_cpu.txt] [--cfg-options K=V ...]

Runs go in priority order: the first seed of every row, then the other seeds of the
set-matching rows, then the rest. ``--reuse`` keeps what an earlier call trained and tested
under the same ROOT, so a later call with more seeds or rows adds to the same table.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from typing import List, NamedTuple, Optional, Sequence

from coseg_tools.benchmarking import read_test_metrics

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # train.py, test.py
REPO = os.path.dirname(TOOLS)
CONFIG_DIR = os.path.join(REPO, 'configs/coseg/open_world')
DEFAULT_OUT = os.path.join(REPO, 'docs/benchmarks/open_world_cpu.txt')


class Row(NamedTuple):
    key: str
    name: str  # the table's row label
    config: str  # under configs/coseg/open_world/; its cross-vocab test under zero-shot/


ROWS = {r.key: r for r in (
    Row('prefix-set-matching', 'CoSeg-Prefix, set matching',
        'coseg_prefix_set-matching_open-world'),
    Row('xatten-set-matching', 'CoSeg-Xatten, set matching',
        'coseg_xatten_set-matching_open-world'),
    Row('prefix', 'CoSeg-Prefix, paper targets', 'coseg_prefix_open-world'),
    Row('xatten', 'CoSeg-Xatten, paper targets', 'coseg_xatten_open-world'),
    Row('closed-set', 'FCNHead closed-set (no transfer)',
        'fcn_clip-frozen_closed-set_open-world'),
    Row('random-text', 'CoSeg-Prefix, set m., random text',
        'coseg_prefix_set-matching_open-world_random-text'),
)}
# Issue 24 §4.
TARGET_RATIO = 0.7  # generalized unseen mIoU >= 0.7 x seen mIoU
TARGET_HIOU = 60.0
TARGET_CROSS = 60.0


class Tee:
    """Write to the terminal and to a file (the raw output kept in docs/benchmarks/)."""

    def __init__(self, stream, path: str) -> None:
        self.stream, self.file = stream, open(path, 'w')

    def write(self, text: str) -> None:
        self.stream.write(text)
        self.file.write(text)

    def flush(self) -> None:
        self.stream.flush()
        self.file.flush()


def run(cmd: List[str], cwd: str, log: str) -> float:
    """Run ``cmd`` in ``cwd`` with its output in ``log``; its wall seconds. Raises on failure,
    with the log's tail."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    start = time.perf_counter()
    with open(log, 'w') as f:
        code = subprocess.call(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, env=env)
    if code:
        with open(log) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f'{" ".join(cmd)} failed (exit {code}); see {log}:\n{tail}')
    return time.perf_counter() - start


def tool(name: str) -> str:
    return os.path.join(TOOLS, name)


def relative(cmd: Sequence[str]) -> str:
    """A command as typed from the repository root."""
    return ' '.join(os.path.relpath(c, REPO) if c.startswith(REPO) else c for c in cmd)


def split_dir(root: str, split_seed: int, unseen_fraction: float) -> str:
    return os.path.join(root, f'split{split_seed}_unseen{unseen_fraction:g}')


def make_world(root: str, split_seed: int, unseen_fraction: float,
               world_args: Sequence[str]) -> dict:
    """Make (or reuse) the world of this split under ROOT; returns its split.json.

    The CLIP depends on the world and ``--clip-seed`` only, not on the split: the first split
    made under ROOT trains it, then its ``clip`` and ``clip_random_text`` move to ROOT and
    every split folder links to them (the world tool reuses a CLIP whose record matches).
    """
    folder = split_dir(root, split_seed, unseen_fraction)
    data = os.path.join(folder, 'data', 'open_world')
    os.makedirs(data, exist_ok=True)
    names = ('clip', 'clip_random_text')
    shared = {n: os.path.join(root, 'shared_' + n) for n in names}
    for name in names:
        link = os.path.join(data, name)
        if os.path.isdir(shared[name]) and not os.path.lexists(link):
            os.symlink(os.path.relpath(shared[name], data), link)
    cmd = [sys.executable, tool('make_open_world_data.py'), '--out', data, '--split-seed',
           str(split_seed), '--unseen-fraction', str(unseen_fraction), '--report', *world_args]
    seconds = run(cmd, REPO, os.path.join(folder, 'make_world.log'))
    for name in names:
        link = os.path.join(data, name)
        if not os.path.islink(link) and not os.path.exists(shared[name]):
            os.rename(link, shared[name])
            os.symlink(os.path.relpath(shared[name], data), link)
    print(f'world ready in {seconds:.0f} s: {relative(cmd)}', flush=True)
    with open(os.path.join(data, 'scenes', 'split.json')) as f:
        return json.load(f)


def dense_floor(folder: str) -> dict:
    """The CLIP's dense (MaskCLIP-style) floor on this split's scenes: the world's report
    (``data/open_world/clip_report.json``, written by the world tool or here by
    ``coseg_tools.open_world.clip_report.write_report``), as the table's figures."""
    data = os.path.join(folder, 'data', 'open_world')
    path = os.path.join(data, 'clip_report.json')
    if os.path.isfile(path):
        with open(path) as f:
            report = json.load(f)
    else:
        from coseg_tools.open_world.clip_report import write_report
        report = write_report(os.path.join(data, 'clip'), os.path.join(data, 'scenes'), path)
    dense = report['dense_floor']
    print(f'the CLIP alone ({os.path.relpath(path, REPO)}): zero-shot accuracy '
          + ', '.join(f'{k} {v:.1f}' for k, v in report.get('zero_shot', {}).items()
                      if isinstance(v, (int, float))), flush=True)
    return dict(cross=dense['val_unseen']['mIoU'], seen=dense['val_mixed']['seen'],
                unseen=dense['val_mixed']['unseen'], hiou=dense['val_mixed']['hIoU'])


def train_and_test(folder: str, row: Row, seed: int, options: Sequence[str],
                   reuse: bool, calibrations: Sequence[float] = ()) -> List[dict]:
    """Train ``row`` with ``seed`` in ``folder``, then run its two zero-shot tests, and the
    generalized one again at each ``decode_head.seen_calibration`` of ``calibrations`` (CoSeg
    rows only; the cross-vocabulary test holds no seen name, calibration leaves it alone).

    Returns:
        One result per test setting: the plain one first, then one per calibration.
    """
    work = os.path.join('work_dirs', f'{row.key}_seed{seed}')
    os.makedirs(os.path.join(folder, work), exist_ok=True)
    config = os.path.join(CONFIG_DIR, row.config + '.py')
    cross = os.path.join(CONFIG_DIR, 'zero-shot', row.config + '_cross-vocab.py')
    train_cmd = [sys.executable, tool('train.py'), config, '--work-dir', work,
                 '--cfg-options', f'randomness.seed={seed}', *options]
    done = os.path.join(folder, work, 'train_seconds.txt')
    if reuse and os.path.isfile(done):
        with open(done) as f:
            train_s = float(f.read())
    else:
        train_s = run(train_cmd, folder, os.path.join(folder, work, 'train.log'))
        with open(done, 'w') as f:
            f.write(f'{train_s}')
    with open(os.path.join(folder, work, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    results = dict(row=row.key, label=row.name, seed=seed, train_s=round(train_s, 1),
                   command=relative(train_cmd))
    tests = [('generalized', config, []), ('cross', cross, [])]
    if row.config.startswith('coseg_'):
        tests += [(f'generalized_cal{g:g}', config,
                   ['--cfg-options', f'model.decode_head.seen_calibration={g}'])
                  for g in calibrations]
    for test, test_config, test_options in tests:
        test_dir = os.path.join(work, f'test_{test}')
        metrics = read_test_metrics(os.path.join(folder, test_dir)) if reuse else None
        if metrics is None:
            cmd = [sys.executable, tool('test.py'), test_config, checkpoint, '--work-dir',
                   test_dir, *test_options]
            run(cmd, folder, os.path.join(folder, work, f'test_{test}.log'))
            metrics = read_test_metrics(os.path.join(folder, test_dir))
            if metrics is None:
                raise RuntimeError(f'no metrics file under {os.path.join(folder, test_dir)}')
        results[test] = metrics
    calibrated = [dict(results, label=f'{row.name} +cal {g:g}', generalized=results[
        f'generalized_cal{g:g}'], calibration=g) for g in calibrations
        if f'generalized_cal{g:g}' in results]
    return [results] + calibrated


def figures(r: dict) -> dict:
    """The table's figures of one run: cross-vocabulary mIoU (the floor's: its unseen mIoU,
    since its classes cannot change) and the generalized seen / unseen / hIoU."""
    gen, cross = r['generalized'], r['cross']
    cross_miou = cross['unseen_mIoU'] if 'unseen_mIoU' in cross else cross['mIoU']
    seen, unseen = gen['seen_mIoU'], gen['unseen_mIoU']
    return dict(cross=cross_miou, seen=seen, unseen=unseen, hiou=gen['hIoU'],
                ratio=unseen / seen if seen else math.nan)


def fmt(value: float, width: int = 6, digits: int = 1) -> str:
    return f'{"nan" if math.isnan(value) else f"{value:.{digits}f}":>{width}}'


def print_table(rows: List[dict], floor: Optional[dict]) -> None:
    print(f'\n{"row":<36} {"seed":>4} {"cross":>6} | {"seen":>6} {"unseen":>6} {"hIoU":>6} '
          f'{"u/s":>5} | {"train s":>7}')
    for r in rows:
        f = figures(r)
        print(f'{r["label"]:<36} {r["seed"]:>4} {fmt(f["cross"])} | '
              f'{fmt(f["seen"])} {fmt(f["unseen"])} {fmt(f["hiou"])} {fmt(f["ratio"], 5, 2)} | '
              f'{r["train_s"]:>7.0f}')
    if floor:
        print(f'{"CLIP dense floor (no training)":<36} {"-":>4} '
              f'{fmt(floor.get("cross", math.nan))} | {fmt(floor.get("seen", math.nan))} '
              f'{fmt(floor.get("unseen", math.nan))} {fmt(floor.get("hiou", math.nan))} '
              f'{"":>5} | {"-":>7}')
    print('(cross: mIoU on val_unseen under the unseen names; seen / unseen / hIoU: val_mixed '
          'under all names; u/s = unseen / seen; +cal G: the same checkpoint tested with '
          'decode_head.seen_calibration=G)')


def summarise(rows: List[dict], floor: Optional[dict]) -> None:
    """Mean [min, max] over seeds per row, and the targets of issue 24 §4 per run."""
    print('\nsummary: mean [min, max] over seeds')
    for key in dict.fromkeys(r['label'] for r in rows):
        sel = [figures(r) for r in rows if r['label'] == key]
        parts = []
        for name in ('cross', 'seen', 'unseen', 'hiou', 'ratio'):
            v = [s[name] for s in sel]
            parts.append(f'{name} {statistics.mean(v):.2f} [{min(v):.2f}, {max(v):.2f}]')
        print(f'{key:<36} n={len(sel)}  ' + '  '.join(parts))
    print(f'\ntargets (issue 24 §4): unseen >= {TARGET_RATIO} x seen, hIoU >= {TARGET_HIOU:g}, '
          f'cross-vocabulary >= {TARGET_CROSS:g}, each above the dense floor')
    for r in rows:
        if r['row'] in ('closed-set', 'random-text'):
            continue
        f = figures(r)
        checks = [('u/s', f['ratio'] >= TARGET_RATIO), ('hIoU', f['hiou'] >= TARGET_HIOU),
                  ('cross', f['cross'] >= TARGET_CROSS)]
        if floor:
            checks += [('> floor', f['cross'] > floor.get('cross', -1)
                        and f['unseen'] > floor.get('unseen', -1))]
        print(f'  {r["label"]:<36} seed {r["seed"]}: '
              + ', '.join(f'{name} {"met" if ok else "MISSED"}' for name, ok in checks))


def run_order(rows: Sequence[str], seeds: Sequence[int]) -> List[tuple]:
    """The first seed of every row, then the other seeds of the set-matching rows, then the
    rest (the order in which a cut-short call leaves the most useful table)."""
    first = [(r, seeds[0]) for r in rows]
    sm = [(r, s) for s in seeds[1:] for r in rows if r.endswith('set-matching')]
    rest = [(r, s) for s in seeds[1:] for r in rows if (r, s) not in sm]
    return first + sm + rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', default='work_dirs/open_world',
                        help='working folder: one sub-folder per split (data and work dirs)')
    parser.add_argument('--rows', nargs='+', choices=list(ROWS), default=list(ROWS))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--split-seed', type=int, default=0)
    parser.add_argument('--unseen-fraction', type=float, default=0.25)
    parser.add_argument('--world-args', nargs=argparse.REMAINDER, default=[],
                        help='further arguments of tools/make_open_world_data.py (last)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='KEY=VALUE options added to every training command')
    parser.add_argument('--seen-calibration', nargs='+', type=float, default=[],
                        metavar='G', help='also run each CoSeg row\'s generalized test with '
                                          'model.decode_head.seen_calibration=G')
    parser.add_argument('--reuse', action='store_true',
                        help='keep the runs (and tests) an earlier call made under ROOT')
    parser.add_argument('--out', default=DEFAULT_OUT,
                        help='file receiving the raw output with the command ("-": none)')
    from coseg_tools.cli import add_debug_argument
    add_debug_argument(parser)
    args = parser.parse_args()
    if args.out != '-':
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        sys.stdout = Tee(sys.stdout, args.out)
    print('command: python ' + relative([os.path.abspath(sys.argv[0])] + sys.argv[1:]))
    print(f'started {time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())} UTC; cores: '
          f'{os.cpu_count()}; load average: {os.getloadavg()[0]:.1f}', flush=True)
    root = os.path.abspath(args.root)
    start = time.perf_counter()
    split = make_world(root, args.split_seed, args.unseen_fraction, args.world_args)
    folder = split_dir(root, args.split_seed, args.unseen_fraction)
    print(f'split seed {args.split_seed}, unseen fraction {args.unseen_fraction:g}: '
          f'{len(split["seen"])} seen, {len(split["unseen"])} unseen of '
          f'{len(split["classes"])} classes; unseen: {", ".join(split["unseen"])}', flush=True)
    floor = dense_floor(folder)
    rows = []
    for key, seed in run_order(args.rows, args.seeds):
        results = train_and_test(folder, ROWS[key], seed, args.cfg_options, args.reuse,
                                 args.seen_calibration)
        rows += results
        for result in results:
            f = figures(result)
            print(f'{result["label"]:<36} seed {seed}: cross {f["cross"]:.1f}, seen '
                  f'{f["seen"]:.1f}, unseen {f["unseen"]:.1f}, hIoU {f["hiou"]:.1f} (train '
                  f'{result["train_s"]:.0f} s, {time.perf_counter() - start:.0f} s so far)',
                  flush=True)
    rows.sort(key=lambda r: (list(ROWS).index(r['row']), r.get('calibration', -1), r['seed']))
    print_table(rows, floor)
    summarise(rows, floor)
    print(f'\nwall time of this call: {time.perf_counter() - start:.0f} s; load average at the '
          f'end: {os.getloadavg()[0]:.1f}')
    print('training commands (run in ' + os.path.relpath(folder, REPO) + '):')
    for command in dict.fromkeys(r['command'] for r in rows):
        print('  ' + command)


if __name__ == '__main__':
    sys.path.insert(0, REPO)  # run from a checkout without installing the plugin
    from coseg_tools.cli import run_tool
    run_tool(main)
