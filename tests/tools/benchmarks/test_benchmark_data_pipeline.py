"""tools/benchmarks/benchmark_data_pipeline.py end to end on a few generated COCO-sized samples."""
import math
import re

import pytest

from tests.helpers import run_tool

pytestmark = pytest.mark.slow  # starts the tools in subprocesses


def test_prints_per_worker_rates_and_the_worker_count(tmp_path):
    result = run_tool('benchmarks/benchmark_data_pipeline.py', '--images', '4', '--repeats', '1',
                      '--target', '1000', '--cores', '16', '--no-feature-cache',
                      '--loader-workers', '0', '--loader-batches', '1',
                      cwd=str(tmp_path), timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    values = dict(re.findall(r'^(\w+): (.+)$', result.stdout, re.M))
    for path, workers in (('plain', 8), ('preresized', 4)):  # the configs' num_workers
        rate = float(values[f'{path}_images_per_s_per_worker'])
        assert rate > 0
        assert int(values[f'{path}_config_num_workers']) == workers
        assert int(values[f'{path}_workers_needed_for_1000']) == math.ceil(1000 / rate)
        assert values[f'{path}_config_workers_feed_target'] == str(workers * rate >= 1000)
    assert float(values['preresized_over_plain']) > 0
    for path in ('plain', 'preresized'):  # mmengine's DataLoader of the config, collation included
        assert float(values[f'{path}_loader_0_workers_images_per_s']) > 0
