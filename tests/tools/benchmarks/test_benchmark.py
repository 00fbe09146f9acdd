"""tools/benchmarks/benchmark.py: the FLOP floor every time ratio is compared with, and the
per-config training throughput table built from the shipped configs."""
import argparse
import importlib.util
import os

import pytest

from tests.helpers import REPO, TINY_CONFIG


def load_benchmark():
    spec = importlib.util.spec_from_file_location(
        'benchmark', os.path.join(REPO, 'tools', 'benchmarks', 'benchmark.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_configs_are_the_shipped_ones():
    """Every (neck, dtype) of the table names a config that exists, with the neck and the
    optimizer wrapper's dtype the row claims."""
    from mmengine.config import Config
    benchmark = load_benchmark()
    assert set(benchmark.TABLE_CONFIGS) == {(n, d) for n in ('prefix', 'xatten')
                                            for d in ('float32', 'float16', 'bfloat16')}
    for (neck, dtype), (config, options) in benchmark.TABLE_CONFIGS.items():
        cfg = Config.fromfile(os.path.join(REPO, config))
        cfg.merge_from_dict(options)
        assert cfg.model.neck.mode == neck, config
        wrapper = cfg.optim_wrapper
        assert wrapper.get('dtype', 'float32') == dtype, config
        assert (wrapper.type == 'AmpOptimWrapper') == (dtype != 'float32'), config
        if dtype == 'float16':
            assert wrapper.loss_scale == 'dynamic'  # float16 overflows without loss scaling


def table_args(**kwargs):
    return argparse.Namespace(repeats=1, warmup=0, table_compile=False, table_options=None,
                              **kwargs)


def test_table_row_counts_a_step_per_image_on_the_tiny_config():
    """The row's FLOPs per image are those of one training step (the vocabulary's one-off
    text-encoder pass left out): the same at batch 2 and 4; images/s and memory positive."""
    benchmark = load_benchmark()
    rows = [benchmark.table_row(TINY_CONFIG, {}, 'prefix', 'float32', batch, table_args(),
                                'cpu') for batch in (2, 4)]
    assert rows[0].flops_per_image > 0
    assert rows[0].flops_per_image == pytest.approx(rows[1].flops_per_image, rel=1e-6)
    assert all(r.images_per_s > 0 and r.peak_memory_mb > 0 for r in rows)
    assert [r.batch for r in rows] == [2, 4]
