"""tools/benchmarks/benchmark_open_world.py's pieces that need no training: the order of its
runs, the figures of a row (the metrics file it reads: tests/coseg_tools/test_benchmarking.py)."""
import importlib.util
import os

from tests.helpers import REPO


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'benchmark_open_world', os.path.join(REPO, 'tools/benchmarks/benchmark_open_world.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_runs_in_priority_order():
    tool = load_tool()
    order = tool.run_order(['prefix-set-matching', 'prefix', 'closed-set',
                            'xatten-set-matching'], [0, 1, 2])
    assert order[:4] == [('prefix-set-matching', 0), ('prefix', 0), ('closed-set', 0),
                         ('xatten-set-matching', 0)]
    assert order[4:8] == [('prefix-set-matching', 1), ('xatten-set-matching', 1),
                          ('prefix-set-matching', 2), ('xatten-set-matching', 2)]
    assert sorted(order) == sorted((r, s) for r in ['prefix-set-matching', 'prefix',
                                                    'closed-set', 'xatten-set-matching']
                                   for s in (0, 1, 2))


def test_figures_of_coseg_and_closed_set_rows():
    tool = load_tool()
    coseg = tool.figures(dict(generalized=dict(seen_mIoU=80.0, unseen_mIoU=60.0, hIoU=68.57),
                              cross=dict(mIoU=70.0)))
    assert coseg == dict(cross=70.0, seen=80.0, unseen=60.0, hiou=68.57, ratio=0.75)
    # the closed-set floor is tested on val_unseen under all names: its unseen mIoU counts
    floor = tool.figures(dict(generalized=dict(seen_mIoU=80.0, unseen_mIoU=0.0, hIoU=0.0),
                              cross=dict(mIoU=3.0, unseen_mIoU=0.0)))
    assert floor['cross'] == 0.0 and floor['ratio'] == 0.0


def test_every_row_has_its_two_test_configs():
    tool = load_tool()
    for row in tool.ROWS.values():
        assert os.path.isfile(os.path.join(tool.CONFIG_DIR, row.config + '.py')), row
        assert os.path.isfile(os.path.join(tool.CONFIG_DIR, 'zero-shot',
                                           row.config + '_cross-vocab.py')), row
