"""Speed and memory of CoSeg at the real ViT-B/16 size (random weights: the compute is the same).

Prints one ``name: value`` line per figure, every ratio measured side by side in this run (the
two sides alternate, one call each per round; seconds and ratios are medians over the rounds):

1. ``infer_{prefix,xatten}_{224,352}``: CoSeg inference on one image (171-class vocabulary,
   embeddings cached) against one bare CLIP ViT-B/16 image-encoder pass (transformers'
   ``CLIPVisionModel``) at the same size: seconds, time ratio, FLOP ratio, and their quotient.
2. ``train_{prefix,xatten}``: one training step (batch 8, 224x224, Adam) against the frozen
   backbone's forward on the same batch; same figures.
   ``phase_{prefix,xatten}_*``: seconds and GFLOP/s of each phase of that step (backbone, neck,
   head, loss, backward, optimizer): where the time above the floor goes.
3. ``memory_*``: peak memory of a training step and of inference, each in a fresh process,
   weights included (CUDA: the allocator's peak; CPU: the peak resident size).
4. ``vocab_*`` / ``tokens_*``: inference seconds per image as the vocabulary grows (20, 171,
   459) and as N grows (10, 20, 40).
5. ``cached_features_*``: a training step from precomputed backbone features
   (``model.feature_cache``) against one computing them.
6. On CUDA: images/s of a training step in fp32 and with mixed precision (``AmpOptimWrapper``,
   fp16 and bf16).

FLOPs are counted by ``torch.utils.flop_counter`` (matmuls, convolutions, attention; forward and
backward): the floor this architecture sets. The no-training baseline has its own script,
``tools/benchmark_no_train.py``.

Usage: python tools/benchmark.py [--repeats 5] [--device cpu|cuda] [--only training ...]
"""
import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Tuple

import torch
from mmengine.config import ConfigDict
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count
from transformers import CLIPVisionConfig, CLIPVisionModel

import coseg_mmseg  # noqa: F401
from coseg_mmseg.datasets.vocabularies import COCO_STUFF, PASCAL_CONTEXT_459
from coseg_mmseg.utils import retain_freed_memory

VIT_B16 = dict(type='FrozenCLIPBackbone', out_indices=(3, 6, 9))


def coseg(mode: str, num_tokens: int = 20, feature_cache=None) -> torch.nn.Module:
    """CoSeg at the paper's sizes, random weights."""
    neck = dict(type='CoexistenceNeck', mode=mode, num_tokens=num_tokens)
    return MODELS.build(dict(
        type='CoSeg', backbone=VIT_B16, text_encoder=dict(type='FrozenCLIPTextEncoder',
                                                          disk_cache=False),
        neck=neck, decode_head=dict(type='FiLMCLIPSegHead', channels=128, num_classes=171),
        vocabulary=COCO_STUFF, test_vocabulary=COCO_STUFF, feature_cache=feature_cache,
        data_preprocessor=dict(type='SegDataPreProcessor'), test_cfg=ConfigDict(mode='whole')))


def _sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def once(fn, device: str) -> float:
    """Seconds of one call."""
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def timed(fn, repeats: int, device: str) -> float:
    """Median seconds of ``repeats`` calls after one warm-up."""
    once(fn, device)
    return statistics.median(once(fn, device) for _ in range(repeats))


def timed_pair(ours, reference, repeats: int, device: str, *,
               warmup: int = 1) -> Tuple[float, float, float]:
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


def flops(fn) -> int:
    """FLOPs of one call of ``fn`` (forward and, if it runs one, backward)."""
    with FlopCounterMode(display=False, custom_mapping=CPU_ATTENTION_FLOPS) as counter:
        fn()
    return counter.get_total_flops()


def samples(batch: int, size: int, device: str, *, labels: bool = True):
    """Images and (for training) label maps with 6 classes each, as mmseg's data samples."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    out = []
    for b in range(batch):
        seg = torch.randint(0, 6, (size // 32, size // 32)).repeat_interleave(32, 0) \
            .repeat_interleave(32, 1) * 20
        s = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                        pad_shape=(size, size), img_path=f'img{b}.jpg'))
        if labels:
            s.gt_sem_seg = PixelData(data=seg[None].to(device))
        out.append(s)
    return torch.randn(batch, 3, size, size, device=device), out


def report(name: str, ours, reference, args, device: str, *, warmup: int = 1,
           recomputed: int = 0) -> None:
    """Time ``ours`` against ``reference`` (interleaved), count both, print the ratios.

    FLOPs are counted after the timing's warm-up calls, which fill one-off caches (the
    vocabulary's text embeddings) that are no part of a step. ``recomputed`` FLOPs of
    ``ours`` are implementation choices above the architecture's floor: they are taken out of
    its count (and printed), so that the FLOP ratio stays the floor.
    """
    ours_s, ref_s, time_ratio = timed_pair(ours, reference, args.repeats, device,
                                           warmup=warmup)
    flop_ratio = (flops(ours) - recomputed) / flops(reference)
    if recomputed:
        print(f'{name}_recomputed_gflops: {recomputed / 1e9:.2f}')
    print(f'{name}_s: {ours_s:.4f}')
    print(f'{name}_reference_s: {ref_s:.4f}')
    print(f'{name}_time_ratio: {time_ratio:.3f}')
    print(f'{name}_flop_ratio: {flop_ratio:.3f}')
    print(f'{name}_time_over_flop_ratio: {time_ratio / flop_ratio:.3f}')


def train_step_fn(model, optim, inputs, data_samples):
    def step():
        losses = model.loss(inputs, data_samples)
        optim.update_params(sum(losses.values()))
    return step


def bench_inference(args, device: str, clip) -> None:
    for mode in ('prefix', 'xatten'):
        model = coseg(mode).to(device).eval()
        for size in (224, 352):
            image, meta = samples(1, size, device, labels=False)
            ours = lambda: model.predict(image, meta)  # noqa: E731
            ref = lambda: clip(pixel_values=image, interpolate_pos_encoding=True)  # noqa: E731
            with torch.no_grad():
                model.vocabulary_embeddings('test')
                report(f'infer_{mode}_{size}', ours, ref, args, device)


def upsample_recomputed_flops(head, masks: int, grid: Tuple[int, int]) -> int:
    """FLOPs the backward of ``patch_deconv`` spends recomputing the upsampling's intermediate
    maps for ``masks`` masks: every transposed convolution but the last, run forward again."""
    deconvs = [m for m in head.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    rows, total = masks * grid[0] * grid[1], 0
    for deconv in deconvs[:-1]:
        k = deconv.kernel_size[0]
        total += 2 * rows * deconv.in_channels * deconv.out_channels * k * k
        rows *= k * k
    return total


def step_recomputed_flops(model, batch: int) -> int:
    """:func:`upsample_recomputed_flops` of one training step on (batch, 3, 224, 224) images."""
    grid = (224 // model.backbone.visual.patch_size,) * 2
    return upsample_recomputed_flops(model.decode_head, batch * model.neck.num_tokens, grid)


def bench_training(args, device: str) -> None:
    for mode in ('prefix', 'xatten'):
        model = coseg(mode).to(device).train()
        optim = build_optim_wrapper(model, dict(optimizer=dict(type='Adam', lr=1e-4)))
        inputs, data_samples = samples(args.batch, 224, device)
        step = train_step_fn(model, optim, inputs, data_samples)
        backbone = torch.no_grad()(lambda: model.backbone(inputs))
        # A process's first training steps run slower (up to 20 % after other work in it,
        # while the allocator settles): three warm-up steps, then the steady state.
        report(f'train_{mode}', step, backbone, args, device, warmup=3,
               recomputed=step_recomputed_flops(model, args.batch))


def bench_phases(args, device: str) -> None:
    """Seconds and GFLOP/s of each phase of a training step of both models, the phases run as
    ``CoSeg.loss`` and ``update_params`` run them: where the time above the floor goes."""
    for mode in ('prefix', 'xatten'):
        bench_phases_of(mode, args, device)


def bench_phases_of(mode: str, args, device: str) -> None:
    model = coseg(mode).to(device).train()
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='Adam', lr=1e-4)))
    inputs, data_samples = samples(args.batch, 224, device)
    head, state = model.decode_head, {}

    def neck():
        state['feats'] = model.neck(state['feats'])
        state['feats']['vocab_embeds'] = model.vocabulary_embeddings('train')

    phases = {
        'backbone': lambda: state.update(feats=model.backbone(inputs)),
        'neck': neck,
        'head': lambda: state.update(out=head(state['feats'])),
        'loss': lambda: state.update(
            loss=sum(head.loss_by_feat(state['out'], data_samples).values())),
        'backward': lambda: state['loss'].backward(),
        'optimizer': lambda: (optim.step(), optim.zero_grad()),
    }
    seconds = {name: [] for name in phases}
    for step in range(3 + args.repeats):  # three warm-up steps, as in bench_training
        for name, phase in phases.items():
            t = once(phase, device)
            if step >= 3:
                seconds[name].append(t)
    recomputed = dict(backward=step_recomputed_flops(model, args.batch))  # not the floor's
    for name, phase in phases.items():
        s = statistics.median(seconds[name])
        print(f'phase_{mode}_{name}_s: {s:.4f}')
        print(f'phase_{mode}_{name}_gflops_per_s: '
              f'{(flops(phase) - recomputed.get(name, 0)) / 1e9 / s:.1f}')


def bench_scaling(args, device: str) -> None:
    image, meta = samples(1, 224, device, labels=False)
    model = coseg('prefix').to(device).eval()
    with torch.no_grad():
        for size, names in ((20, COCO_STUFF[:20]), (171, COCO_STUFF), (459, PASCAL_CONTEXT_459)):
            model.set_vocabulary(names, split='test')
            model.vocabulary_embeddings('test')
            print(f'vocab_{size}_infer_s: '
                  f'{timed(lambda: model.predict(image, meta), args.repeats, device):.4f}')
        for tokens in (10, 20, 40):
            m = coseg('prefix', num_tokens=tokens).to(device).eval()
            m.vocabulary_embeddings('test')
            print(f'tokens_{tokens}_infer_s: '
                  f'{timed(lambda: m.predict(image, meta), args.repeats, device):.4f}')


def bench_feature_cache(args, device: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        times = {}
        for name, cache in (('computed', None), ('cached', dict(cache_dir=folder))):
            torch.manual_seed(0)
            model = coseg('prefix', feature_cache=cache).to(device).train()
            optim = build_optim_wrapper(model, dict(optimizer=dict(type='Adam', lr=1e-4)))
            inputs, data_samples = samples(args.batch, 224, device)
            times[name] = timed(train_step_fn(model, optim, inputs, data_samples),
                                args.repeats, device)  # the warm-up call fills the cache
        print(f'cached_features_step_s: {times["cached"]:.4f}')
        print(f'computed_features_step_s: {times["computed"]:.4f}')
        print(f'cached_features_speedup: {times["computed"] / times["cached"]:.2f}')


def bench_amp(args) -> None:
    """Images/s of a CoSeg-Prefix training step in fp32 and with mixed precision."""
    for dtype in ('float32', 'float16', 'bfloat16'):
        model = coseg('prefix').cuda().train()
        wrapper = dict(type='OptimWrapper') if dtype == 'float32' else \
            dict(type='AmpOptimWrapper', dtype=dtype)
        optim = build_optim_wrapper(model, dict(**wrapper, optimizer=dict(type='Adam', lr=1e-4)))
        inputs, data_samples = samples(args.batch, 224, 'cuda')

        def step():
            with optim.optim_context(model):
                losses = model.loss(inputs, data_samples)
            optim.update_params(sum(losses.values()))
        seconds = timed(step, args.repeats, 'cuda')
        print(f'train_{dtype}_images_per_s: {args.batch / seconds:.1f}')


def measure_memory(kind: str, device: str, batch: int) -> float:
    """Peak memory (MB) of one training step or one inference, in this process."""
    model = coseg('prefix').to(device)
    if kind == 'train':
        model.train()
        optim = build_optim_wrapper(model, dict(optimizer=dict(type='Adam', lr=1e-4)))
        inputs, data_samples = samples(batch, 224, device)
        fn = train_step_fn(model, optim, inputs, data_samples)
    else:
        model.eval()
        image, meta = samples(1, 224, device, labels=False)
        model.vocabulary_embeddings('test')

        def fn():
            with torch.no_grad():
                model.predict(image, meta)
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
        fn()
        return torch.cuda.max_memory_allocated() / 2**20
    fn()
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident size of this process. VmHWM, unlike ru_maxrss, is not inherited from the
    parent across fork + exec."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_memory(args, device: str) -> None:
    for kind in ('train', 'infer'):  # a fresh process per figure: its peak is its own
        out = subprocess.run([sys.executable, __file__, '--memory-only', kind, '--batch',
                              str(args.batch), '--device', device],
                             capture_output=True, text=True, check=True)
        mb = json.loads(out.stdout.strip().splitlines()[-1])['mb']
        label = 'batch8' if kind == 'train' and args.batch == 8 else f'batch{args.batch}'
        print(f'memory_{kind}_{label if kind == "train" else "1image"}_mb: {mb:.0f}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--only', nargs='+', default=None,
                        choices=['inference', 'training', 'phases', 'memory', 'scaling', 'cache',
                                 'amp'])
    parser.add_argument('--memory-only', choices=['train', 'infer'], help=argparse.SUPPRESS)
    args = parser.parse_args()
    # What tools/train.py and tools/test.py do on CPU; both sides of every ratio run with it.
    retained = args.device == 'cpu' and retain_freed_memory()
    register_all_modules(init_default_scope=True)
    torch.manual_seed(0)
    if args.memory_only:
        print(json.dumps(dict(mb=measure_memory(args.memory_only, args.device, args.batch))))
        return
    device = args.device
    name = torch.cuda.get_device_name() if device == 'cuda' else f'cpu x{torch.get_num_threads()}'
    print(f'device: {name}')
    print(f'torch: {torch.__version__}')
    print(f'retain_freed_memory: {retained}')
    only = set(args.only or ['inference', 'training', 'phases', 'memory', 'scaling', 'cache',
                             'amp'])
    if 'inference' in only:
        clip = CLIPVisionModel(CLIPVisionConfig(patch_size=16)).to(device).eval()
        bench_inference(args, device, clip)
    if 'training' in only:
        bench_training(args, device)
    if 'phases' in only:
        bench_phases(args, device)
    if 'memory' in only:
        bench_memory(args, device)
    if 'scaling' in only:
        bench_scaling(args, device)
    if 'cache' in only:
        bench_feature_cache(args, device)
    if 'amp' in only and device == 'cuda':
        bench_amp(args)


if __name__ == '__main__':
    main()
