"""coseg_tools.benchmarking: the FLOP counter, the table's arithmetic, the worker count,
a training iteration built from a config as mmengine's Runner builds it, and the test metrics
file a test run leaves."""
import json
import math
import os

import pytest
import torch
import torch.nn.functional as F

from coseg_tools import benchmarking as bm
from tests.helpers import TINY_CONFIG


def test_attention_counts_on_cpu():
    """torch's counter alone gives CPU attention 0 FLOPs; ours gives 4 L_q L_k d per head
    forward (QK^T and AV) and 2.5x that backward."""
    q, k = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8)
    forward = 2 * 3 * 4 * 5 * 7 * 8
    assert bm.count_flops(lambda: F.scaled_dot_product_attention(q, k, k)) == forward
    q.requires_grad_(True)
    assert bm.count_flops(
        lambda: F.scaled_dot_product_attention(q, k, k).sum().backward()) == 3.5 * forward
    linear = torch.nn.Linear(8, 4)
    assert bm.count_flops(lambda: linear(q)) == 2 * 2 * 3 * 5 * 8 * 4  # matmuls still counted


def test_matmul_rate_is_flops_over_median_seconds(monkeypatch):
    seconds = iter([9.0] * 3 + [1.0, 4.0, 2.0])  # three warm-ups, then the timed products
    monkeypatch.setattr(bm, 'once', lambda fn, device: next(seconds))
    assert bm.matmul_flops_per_s(8, torch.float32, 'cpu', repeats=3) == 2 * 8 ** 3 / 2.0


def test_throughput_lines_and_table():
    row = bm.ThroughputRow(neck='prefix', dtype='bfloat16', batch=64, seconds_per_step=0.05,
                           flops_per_image=100e9, peak_memory_mb=20480.4)
    assert row.images_per_s == pytest.approx(1280)
    assert row.flops_per_s == pytest.approx(128e12)
    assert bm.throughput_lines([row], 512e12) == [
        'matmul_tflops_per_s: 512.0',
        'table_prefix_bfloat16_batch64_images_per_s: 1280.0',
        'table_prefix_bfloat16_batch64_gflop_per_image: 100.00',
        'table_prefix_bfloat16_batch64_tflops_per_s: 128.00',
        'table_prefix_bfloat16_batch64_fraction_of_matmul: 0.250',
        'table_prefix_bfloat16_batch64_peak_memory_mb: 20480']
    assert not any('fraction' in line for line in bm.throughput_lines([row], None))
    table = bm.throughput_table([row], 512e12).splitlines()
    assert table[0].split() == ['neck', 'dtype', 'batch', 'img/s', 'TFLOP/s', 'of', 'matmul',
                                'peak', 'MB']
    assert table[1].split() == ['prefix', 'bfloat16', '64', '1280.0', '128.00', '25.0%',
                                '20480']


def test_workers_needed_and_feed_verdict():
    assert bm.workers_needed(1113, 100) == 12
    assert bm.workers_needed(1000, 100) == 10
    verdict = bm.feed_verdict(4, 100.0, 1113, cores=16)
    assert verdict == dict(workers_needed=12, fed_images_per_s=400.0, feeds=False,
                           fits_cores=True)
    assert bm.feed_verdict(12, 100.0, 1113, cores=12)['fits_cores'] is False  # 1 core trains
    with pytest.raises(ValueError, match='images_per_s_per_worker must be positive, got 0'):
        bm.workers_needed(1113, 0)


def test_segmentation_batch_is_what_the_dataloader_hands_over():
    data = bm.segmentation_batch(3, 40, num_classes=5, seed=1)
    assert len(data['inputs']) == len(data['data_samples']) == 3
    assert all(x.dtype == torch.uint8 and x.shape == (3, 40, 40) for x in data['inputs'])
    seg = data['data_samples'][0].gt_sem_seg.data
    assert seg.shape == (1, 40, 40) and seg.dtype == torch.int64
    assert set(seg.unique().tolist()) <= {0, 1, 2, 3, 4, 255}
    assert torch.equal(seg, bm.segmentation_batch(3, 40, num_classes=5, seed=1)[
        'data_samples'][0].gt_sem_seg.data)


def test_train_iteration_from_the_tiny_config_updates_the_trainable_weights():
    """build_training + train_iteration run mmengine's train_step: the loss comes back as a
    float, the neck's weights move, the frozen backbone's do not."""
    cfg = bm.load_config(TINY_CONFIG, {'optim_wrapper.optimizer.fused': True})
    torch.manual_seed(0)
    model, optim = bm.build_training(cfg, 'cpu')
    assert optim.optimizer.defaults['fused'] is True
    neck = [p.detach().clone() for p in model.neck.parameters()]
    backbone = [p.detach().clone() for p in model.backbone.parameters()]
    log = bm.train_iteration(model, optim, bm.segmentation_batch(2, 64))
    assert isinstance(log['loss'], float) and log['loss'] > 0
    assert any(not torch.equal(a, b) for a, b in zip(neck, model.neck.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(backbone, model.backbone.parameters()))


@pytest.mark.skipif(not os.environ.get('COSEG_COMPILE_TESTS'),
                    reason='set COSEG_COMPILE_TESTS=1: tracing the whole train_step takes minutes '
                           'on a shared 2-core CPU (scripts/gpu_benchmark.sh sets it)')
@pytest.mark.parametrize('device,backend', [
    ('cpu', 'aot_eager'),
    pytest.param('cuda', 'inductor', marks=pytest.mark.skipif(
        not torch.cuda.is_available(), reason='needs CUDA'))])
def test_compile_key_gives_the_eager_losses_on_the_tiny_config(device, backend):
    """The config's ``compile`` key, applied to ``train_step`` as mmengine's Runner applies it,
    trains the tiny model through the same losses as eager mode, the second step's after an
    Adam update. (On CPU ``aot_eager``: torch.compile's graph capture and autograd without
    inductor's C++ build.)"""
    losses = []
    for compile_cfg in (None, dict(backend=backend)):
        cfg = bm.load_config(TINY_CONFIG, {'compile': compile_cfg})
        torch.manual_seed(0)
        model, optim = bm.build_training(cfg, device)
        bm.compile_train_step(model, cfg.compile)
        losses.append([bm.train_iteration(model, optim, bm.segmentation_batch(2, 64, seed=s))[
            'loss'] for s in range(2)])
    eager, compiled = losses
    assert compiled == pytest.approx(eager, rel=1e-4)
    assert eager[0] != eager[1]


def test_reads_the_newest_metrics_file_of_a_test_work_dir(tmp_path):
    """What tools/test.py left in its work dir: the newest test's metrics, not training's."""
    assert bm.read_test_metrics(str(tmp_path)) is None
    for stamp, miou in (('20261204_100000', 1.0), ('20261204_110000', 2.5)):
        os.makedirs(tmp_path / stamp / 'vis_data')
        (tmp_path / stamp / f'{stamp}.json').write_text(
            json.dumps(dict(aAcc=50.0, mIoU=miou, unseen_mIoU=math.nan, time=0.1)) + '\n')
        # mmengine's scalars.json of a training run is not a test's metrics file
        (tmp_path / stamp / 'vis_data' / 'scalars.json').write_text('{"mIoU": 99}\n')
    metrics = bm.read_test_metrics(str(tmp_path))
    assert metrics['mIoU'] == 2.5 and math.isnan(metrics['unseen_mIoU'])
