"""Measurement helpers shared by the benchmark tools (``tools/benchmarks/*.py``).

Timing (medians of synchronised calls, two sides alternating), FLOP counting (torch's counter
plus the CPU attention kernels it does not know), peak memory, the chip's dense matmul rate, and
the pure arithmetic of the per-config throughput table and of the data path's worker count.
Nothing here builds a model: the tools build them from the shipped configs. Test metrics come
from the file mmengine writes in a test's work dir (:func:`read_test_metrics`), never from
printed tables.
"""
import glob
import json
import math
import os
import platform
import resource
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count


def sync(device: str) -> None:
    """Wait for the device's queued work (a no-op on CPU)."""
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def once(fn: Callable[[], object], device: str) -> float:
    """Seconds of one call of ``fn``, the device's queued work included."""
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def timed(fn: Callable[[], object], repeats: int, device: str) -> float:
    """Median seconds of ``repeats`` calls after one warm-up."""
    once(fn, device)
    return statistics.median(once(fn, device) for _ in range(repeats))


def timed_pair(ours: Callable[[], object], reference: Callable[[], object], repeats: int,
               device: str, *, warmup: int = 1) -> Tuple[float, float, float]:
    """Median seconds of ``ours`` and ``reference``, and the median of their per-round ratio.

    After ``warmup`` calls each, the two alternate, one call each per round, so a machine
    whose speed drifts (shared cores) slows both alike and the ratio stays put.
    """
    for _ in range(warmup):
        once(ours, device), once(reference, device)
    rounds = [(once(ours, device), once(reference, device)) for _ in range(repeats)]
    return (statistics.median(o for o, _ in rounds), statistics.median(r for _, r in rounds),
            statistics.median(o / r for o, r in rounds))


# torch's counter knows the CUDA attention kernels only; without these, attention on CPU would
# count as free (torch's own formulas: 4 L_q L_k d per head forward, 2.5x that backward).
CPU_ATTENTION_FLOPS = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu:
        lambda q, k, v, *args, **kwargs: sdpa_flop_count(q, k, v),
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward:
        lambda grad, q, k, v, *args, **kwargs: sdpa_backward_flop_count(grad, q, k, v),
}


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of one call of ``fn`` (forward and, if it runs one, backward)."""
    with FlopCounterMode(display=False, custom_mapping=CPU_ATTENTION_FLOPS) as counter:
        fn()
    return counter.get_total_flops()


def peak_rss_mb() -> float:
    """Peak resident size (MB) of this process. VmHWM, unlike ru_maxrss, is not inherited
    from the parent across fork + exec."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_flops_per_s(size: int = 8192, dtype: torch.dtype = torch.bfloat16,
                       device: str = 'cuda', repeats: int = 20) -> float:
    """The chip's dense matmul rate: FLOP/s of a ``size``^3 product in ``dtype``.

    The median over ``repeats`` timed products (each ``2 size^3`` FLOPs) after three warm-up
    ones; the reference every model's counted FLOP/s is compared with, measured in the same run.
    """
    generator = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, device=device, dtype=dtype, generator=generator)
    b = torch.randn(size, size, device=device, dtype=dtype, generator=generator)
    product = lambda: torch.mm(a, b)  # noqa: E731
    for _ in range(3):
        once(product, device)
    seconds = statistics.median(once(product, device) for _ in range(repeats))
    return 2 * size ** 3 / seconds


@dataclass
class ThroughputRow:
    """One configuration's measured training step.

    Attributes:
        neck: ``'prefix'`` or ``'xatten'``.
        dtype: ``'float32'``, ``'float16'`` or ``'bfloat16'`` (the optimizer wrapper's).
        batch: Images per step.
        seconds_per_step: Median seconds of one ``train_step``.
        flops_per_image: Counted FLOPs of one step (forward + backward) per image, those the
            implementation recomputes above the architecture's floor taken out.
        peak_memory_mb: The allocator's peak (CUDA) or the process's peak resident size (CPU)
            while the configuration ran, weights and optimizer state included.
    """
    neck: str
    dtype: str
    batch: int
    seconds_per_step: float
    flops_per_image: float
    peak_memory_mb: float

    @property
    def images_per_s(self) -> float:
        return self.batch / self.seconds_per_step

    @property
    def flops_per_s(self) -> float:
        return self.flops_per_image * self.images_per_s


def throughput_lines(rows: Iterable[ThroughputRow],
                     matmul_rate: Optional[float]) -> List[str]:
    """``name: value`` lines of the throughput table: per row images/s, counted TFLOP/s, the
    fraction of ``matmul_rate`` (FLOP/s of the chip's dense product; None: not measured) and
    the peak memory."""
    lines = []
    if matmul_rate is not None:
        lines.append(f'matmul_tflops_per_s: {matmul_rate / 1e12:.1f}')
    for row in rows:
        name = f'table_{row.neck}_{row.dtype}_batch{row.batch}'
        lines += [f'{name}_images_per_s: {row.images_per_s:.1f}',
                  f'{name}_gflop_per_image: {row.flops_per_image / 1e9:.2f}',
                  f'{name}_tflops_per_s: {row.flops_per_s / 1e12:.2f}']
        if matmul_rate is not None:
            lines.append(f'{name}_fraction_of_matmul: {row.flops_per_s / matmul_rate:.3f}')
        lines.append(f'{name}_peak_memory_mb: {row.peak_memory_mb:.0f}')
    return lines


def throughput_table(rows: Iterable[ThroughputRow], matmul_rate: Optional[float]) -> str:
    """The same figures as :func:`throughput_lines`, as a fixed-width table for reading."""
    header = (f'{"neck":<7} {"dtype":<9} {"batch":>5} {"img/s":>9} {"TFLOP/s":>8} '
              f'{"of matmul":>9} {"peak MB":>9}')
    out = [header]
    for row in rows:
        fraction = '-' if matmul_rate is None else f'{row.flops_per_s / matmul_rate:.1%}'
        out.append(f'{row.neck:<7} {row.dtype:<9} {row.batch:>5} {row.images_per_s:>9.1f} '
                   f'{row.flops_per_s / 1e12:>8.2f} {fraction:>9} {row.peak_memory_mb:>9.0f}')
    return '\n'.join(out)


def workers_needed(target_images_per_s: float, images_per_s_per_worker: float) -> int:
    """Dataloader workers that feed ``target_images_per_s`` at the measured per-worker rate."""
    if images_per_s_per_worker <= 0:
        raise ValueError(f'images_per_s_per_worker must be positive, got '
                         f'{images_per_s_per_worker}')
    return math.ceil(target_images_per_s / images_per_s_per_worker)


def feed_verdict(num_workers: int, images_per_s_per_worker: float, target_images_per_s: float,
                 cores: int) -> Dict[str, object]:
    """Whether ``num_workers`` workers feed the target rate, and what a ``cores``-core machine
    allows (one core kept for the training process).

    Returns:
        ``workers_needed``, ``fed_images_per_s`` (num_workers x the per-worker rate, an upper
        bound: workers share memory bandwidth), ``feeds`` (bool) and ``fits_cores`` (whether
        ``workers_needed`` <= cores - 1).
    """
    needed = workers_needed(target_images_per_s, images_per_s_per_worker)
    fed = num_workers * images_per_s_per_worker
    return dict(workers_needed=needed, fed_images_per_s=fed, feeds=fed >= target_images_per_s,
                fits_cores=needed <= cores - 1)


def load_config(config: str, options: Optional[dict] = None):
    """``config`` with ``options`` merged as ``--cfg-options`` merges them (tools/train.py)."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if options:
        cfg.merge_from_dict(options)
    return cfg


def build_training(cfg, device: str):
    """The model and optimizer wrapper of ``cfg``, built as mmengine's Runner builds them.

    The model comes from ``cfg.model`` with random weights (``init_weights`` is not called:
    the compute is the same, and no weights need downloading), the optimizer wrapper from
    ``cfg.optim_wrapper`` (``AmpOptimWrapper`` and its dtype included), and
    ``env_cfg.cudnn_benchmark`` is applied as the Runner applies it. ``cfg.compile``, when
    set, compiles ``model.train_step`` with ``torch.compile`` as ``Runner`` does (after the
    caller's first eager step, see :func:`time_train_steps`).

    Returns:
        (model in train mode on ``device``, optimizer wrapper).
    """
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import MODELS
    if cfg.get('env_cfg', {}).get('cudnn_benchmark'):
        torch.backends.cudnn.benchmark = True
    model_cfg = cfg.model.copy()
    text_encoder = model_cfg.get('text_encoder')
    if text_encoder is not None and text_encoder.get('type') == 'FrozenCLIPTextEncoder':
        text_encoder['disk_cache'] = False  # no embeddings of random weights on the disk
    model = MODELS.build(model_cfg).to(device).train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def compile_train_step(model: torch.nn.Module, compile_cfg) -> None:
    """``torch.compile`` ``model.train_step`` as mmengine's ``Runner._maybe_compile`` does for
    the ``compile`` config key (``True`` or a dict of ``torch.compile`` arguments)."""
    if not compile_cfg:
        return
    kwargs = {} if compile_cfg is True else dict(compile_cfg)
    model.train_step = torch.compile(model.train_step, **kwargs)


def segmentation_batch(batch: int, size: int, *, num_classes: int = 171, seed: int = 0) -> dict:
    """A batch as the training dataloader hands it to ``train_step`` (``pseudo_collate`` of
    ``PackSegInputs``): uint8 (3, size, size) images on the CPU and int64 (1, size, size) label
    maps of a 4 x 4 grid of blocks, each a random class of ``num_classes`` or 255 (ignored)."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    generator = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    block = -(-size // 4)
    for b in range(batch):
        inputs.append(torch.randint(0, 256, (3, size, size), dtype=torch.uint8,
                                    generator=generator))
        classes = torch.randint(0, num_classes + 1, (4, 4), generator=generator)
        classes[classes == num_classes] = 255
        seg = classes.repeat_interleave(block, 0).repeat_interleave(block, 1)[:size, :size]
        sample = SegDataSample(metainfo=dict(
            img_path=f'img{b}.jpg', seg_map_path=f'img{b}.png', ori_shape=(size, size),
            img_shape=(size, size), pad_shape=(size, size), scale_factor=(1.0, 1.0),
            reduce_zero_label=False))
        sample.gt_sem_seg = PixelData(data=seg[None].long())
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def train_iteration(model, optim_wrapper, data: dict) -> dict:
    """One iteration as mmengine's training loop runs it: ``train_step`` (data preprocessor,
    loss, backward, optimizer step), then ``RuntimeInfoHook`` reading every logged loss to a
    Python float (one host sync each)."""
    log_vars = model.train_step(data, optim_wrapper=optim_wrapper)
    return {k: v.item() for k, v in log_vars.items()}


def time_train_steps(model, optim_wrapper, data: dict, *, device: str, warmup: int,
                     repeats: int, compile_cfg=None) -> Tuple[float, int]:
    """Median seconds of one training iteration, and the FLOPs one iteration counts.

    A first eager iteration fills one-off caches (the vocabulary's text embeddings); the FLOPs
    are counted on the second. Then ``compile_cfg`` (the config's ``compile``) compiles
    ``train_step``, ``warmup`` iterations run untimed (compilation, allocator and cuDNN
    warm-up) and ``repeats`` timed.
    """
    train_iteration(model, optim_wrapper, data)
    flops = count_flops(lambda: train_iteration(model, optim_wrapper, data))
    compile_train_step(model, compile_cfg)
    step = lambda: train_iteration(model, optim_wrapper, data)  # noqa: E731
    for _ in range(warmup):
        once(step, device)
    return statistics.median(once(step, device) for _ in range(repeats)), flops


def read_test_metrics(work_dir: str) -> Optional[Dict[str, float]]:
    """The metrics of the newest test run under ``work_dir``, as its evaluator returned them.

    mmengine's ``LoggerHook`` writes them after each test (``tools/test.py --work-dir``) to
    ``<work_dir>/<timestamp>/<timestamp>.json``, one JSON object a line; the last line holds the
    metrics. A training run's ``vis_data/scalars.json`` is not such a file.

    Returns:
        The file's numeric values (as floats) by name; None when no test wrote one there.
    """
    files = sorted(glob.glob(os.path.join(work_dir, '*', '*.json')))
    files = [f for f in files
             if os.path.basename(f)[:-5] == os.path.basename(os.path.dirname(f))]
    if not files:
        return None
    with open(files[-1]) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return {k: float(v) for k, v in lines[-1].items() if isinstance(v, (int, float))}


def cpu_model() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else the architecture."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.machine()
