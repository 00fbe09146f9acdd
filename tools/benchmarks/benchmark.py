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
4. ``vocab_*`` / ``slots_*``: inference seconds per image as the vocabulary grows (20, 171,
   459) and as N grows (10, 20, 40).
5. ``cached_features_*``: a training step from precomputed backbone features
   (``model.feature_cache``) against one computing them.
6. ``table_{neck}_{dtype}_batch{B}_*`` (on CUDA by default; ``--only table``): per shipped config
   (neck x fp32/fp16/bf16 x batch 8/32/64, ``TABLE_CONFIGS``) the images/s of a training
   iteration as ``tools/train.py`` runs it (the model and ``AmpOptimWrapper`` built from the
   config, ``train_step`` on a dataloader-shaped batch, the loop's per-iteration loss reads),
   its counted TFLOP/s, their fraction of the chip's dense matmul rate (an 8192^3 bf16 product
   measured in the same run) and the peak memory; then the same as one table.

FLOPs are counted by ``torch.utils.flop_counter`` (matmuls, convolutions, attention; forward and
backward): the floor this architecture sets. The no-training baseline has its own script,
``tools/benchmarks/benchmark_no_train.py``.

Usage: python tools/benchmarks/benchmark.py [--repeats 5] [--device cpu|cuda] [--only training ...]
"""
import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile

import torch
from mmengine.config import ConfigDict, DictAction
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from transformers import CLIPVisionConfig, CLIPVisionModel

import coseg_mmseg  # noqa: F401
from coseg_mmseg.datasets.vocabularies import COCO_STUFF, PASCAL_CONTEXT_459
from coseg_tools.benchmarking import (ThroughputRow, build_training, count_flops, load_config,
                                      matmul_flops_per_s, once, peak_rss_mb, segmentation_batch,
                                      throughput_lines, throughput_table, time_train_steps, timed,
                                      timed_pair)
from coseg_tools.cpu_heap import retain_freed_memory

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

VIT_B16 = dict(type='FrozenCLIPBackbone', out_indices=(3, 6, 9))


def coseg(mode: str, num_slots: int = 20, feature_cache=None) -> torch.nn.Module:
    """CoSeg at the paper's sizes, random weights."""
    neck = dict(type='CoexistenceNeck', mode=mode, num_slots=num_slots)
    return MODELS.build(dict(
        type='CoSeg', backbone=VIT_B16, text_encoder=dict(type='FrozenCLIPTextEncoder',
                                                          disk_cache=False),
        neck=neck, decode_head=dict(type='FiLMCLIPSegHead', channels=128),
        vocabulary=COCO_STUFF, test_vocabulary=COCO_STUFF, feature_cache=feature_cache,
        data_preprocessor=dict(type='SegDataPreProcessor'), test_cfg=ConfigDict(mode='whole')))


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


def report(name: str, ours, reference, args, device: str, *, warmup: int = 1) -> None:
    """Time ``ours`` against ``reference`` (interleaved), count both, print the ratios.

    FLOPs are counted after the timing's warm-up calls, which fill one-off caches (the
    vocabulary's text embeddings) that are no part of a step.
    """
    ours_s, ref_s, time_ratio = timed_pair(ours, reference, args.repeats, device,
                                           warmup=warmup)
    flop_ratio = count_flops(ours) / count_flops(reference)
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


def bench_training(args, device: str) -> None:
    for mode in ('prefix', 'xatten'):
        model = coseg(mode).to(device).train()
        optim = build_optim_wrapper(model, dict(optimizer=dict(type='Adam', lr=1e-4)))
        inputs, data_samples = samples(args.batch, 224, device)
        step = train_step_fn(model, optim, inputs, data_samples)
        backbone = torch.no_grad()(lambda: model.backbone(inputs))
        # A process's first training steps run slower (up to 20 % after other work in it,
        # while the allocator settles): three warm-up steps, then the steady state.
        report(f'train_{mode}', step, backbone, args, device, warmup=3)


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

    def neck():  # the second half of CoSeg.extract_feat
        state['feats'] = model.neck_features(state['feats'], split='train')

    phases = {
        'backbone': lambda: state.update(feats=model.backbone_features(inputs)),
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
    for name, phase in phases.items():
        s = statistics.median(seconds[name])
        print(f'phase_{mode}_{name}_s: {s:.4f}')
        print(f'phase_{mode}_{name}_gflops_per_s: '
              f'{count_flops(phase) / 1e9 / s:.1f}')


def bench_scaling(args, device: str) -> None:
    image, meta = samples(1, 224, device, labels=False)
    model = coseg('prefix').to(device).eval()
    with torch.no_grad():
        for size, names in ((20, COCO_STUFF[:20]), (171, COCO_STUFF), (459, PASCAL_CONTEXT_459)):
            model.set_vocabulary(names, split='test')
            model.vocabulary_embeddings('test')
            print(f'vocab_{size}_infer_s: '
                  f'{timed(lambda: model.predict(image, meta), args.repeats, device):.4f}')
        for slots in (10, 20, 40):
            m = coseg('prefix', num_slots=slots).to(device).eval()
            m.vocabulary_embeddings('test')
            print(f'slots_{slots}_infer_s: '
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


# (neck, dtype) -> (config, --cfg-options): what `tools/train.py CONFIG --cfg-options ...` runs.
# fp32 is the paper's recipe config as shipped; bf16 the one-GPU config; fp16 the same with the
# wrapper's dtype switched (float16 needs loss scaling).
TABLE_CONFIGS = {
    (neck, dtype): (f'configs/coseg/coseg_{neck}_{name}cocostuff.py', options)
    for neck in ('prefix', 'xatten')
    for dtype, name, options in (
        ('float32', '', {}),
        ('float16', '1xb64-bf16_', {'optim_wrapper.dtype': 'float16',
                                    'optim_wrapper.loss_scale': 'dynamic'}),
        ('bfloat16', '1xb64-bf16_', {}))
}


def table_row(config: str, options: dict, neck: str, dtype: str, batch: int, args,
              device: str) -> ThroughputRow:
    """Build ``config`` (with ``options`` and the batch size) and time its training step."""
    options = {**options, **(args.table_options or {}), 'train_dataloader.batch_size': batch}
    if args.table_compile:
        options['compile'] = True
    cfg = load_config(os.path.join(REPO, config), options)
    if device == 'cuda':
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    torch.manual_seed(0)
    model, optim = build_training(cfg, device)
    size = cfg.crop_size[0]
    data = segmentation_batch(batch, size)
    seconds, flops = time_train_steps(model, optim, data, device=device, warmup=args.warmup,
                                      repeats=args.repeats, compile_cfg=cfg.get('compile'))
    memory = torch.cuda.max_memory_allocated() / 2**20 if device == 'cuda' else peak_rss_mb()
    return ThroughputRow(neck=neck, dtype=dtype, batch=batch, seconds_per_step=seconds,
                         flops_per_image=flops / batch, peak_memory_mb=memory)


def bench_table(args, device: str) -> None:
    """Per config (neck x dtype x batch): images/s of a training iteration as tools/train.py
    runs it, counted TFLOP/s, their fraction of the chip's bf16 matmul rate measured in the same
    run, and peak memory."""
    matmul = None
    if device == 'cuda':
        matmul = matmul_flops_per_s(args.matmul_size, torch.bfloat16, device)
    elif args.matmul_size:
        matmul = matmul_flops_per_s(args.matmul_size, torch.float32, device, repeats=3)
    if matmul is not None:
        print(f'matmul_size: {args.matmul_size}')
        print(f'matmul_dtype: {"bfloat16" if device == "cuda" else "float32"}')
        print(f'matmul_tflops_per_s: {matmul / 1e12:.1f}')
    rows = []
    for neck in args.table_necks:
        for dtype in args.table_dtypes:
            config, options = args.table_config or TABLE_CONFIGS[(neck, dtype)][0], \
                {} if args.table_config else TABLE_CONFIGS[(neck, dtype)][1]
            shown = {**options, **(args.table_options or {})}
            print(f'table_{neck}_{dtype}_config: {config} {shown}'
                  f'{" compile=True" if args.table_compile else ""}')
            for batch in args.table_batches:
                try:
                    row = table_row(config, options, neck, dtype, batch, args, device)
                except torch.OutOfMemoryError:
                    print(f'table_{neck}_{dtype}_batch{batch}_images_per_s: out of memory')
                    continue
                finally:
                    gc.collect()
                rows.append(row)
                print('\n'.join(throughput_lines([row], matmul)[1 if matmul else 0:]),
                      flush=True)
    print(throughput_table(rows, matmul))


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
                                 'table'],
                        help='sections to run (default: all; "table" on CUDA only)')
    table = parser.add_argument_group('table', 'the per-config training throughput table')
    table.add_argument('--table-necks', nargs='+', default=['prefix', 'xatten'],
                       choices=['prefix', 'xatten'])
    table.add_argument('--table-dtypes', nargs='+', default=['float32', 'float16', 'bfloat16'],
                       choices=['float32', 'float16', 'bfloat16'])
    table.add_argument('--table-batches', nargs='+', type=int, default=[8, 32, 64])
    table.add_argument('--warmup', type=int, default=3,
                       help='untimed iterations per row after the counted one')
    table.add_argument('--table-compile', action='store_true',
                       help='set the configs\' compile=True (torch.compile of train_step)')
    table.add_argument('--table-options', nargs='+', action=DictAction,
                       help='extra --cfg-options for every row, e.g. '
                            'model.backbone.weights_dtype=bfloat16')
    table.add_argument('--table-config',
                       help='time this config instead of the shipped ones (e.g. a tiny one)')
    table.add_argument('--matmul-size', type=int, default=None,
                       help='side of the square matmul measured as the chip\'s rate (default: '
                            '8192 in bf16 on CUDA, none on CPU)')
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
    only = set(args.only or ['inference', 'training', 'phases', 'memory', 'scaling', 'cache'] +
               (['table'] if device == 'cuda' else []))
    if device == 'cuda' and args.matmul_size is None:
        args.matmul_size = 8192
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
    if 'table' in only:
        bench_table(args, device)


if __name__ == '__main__':
    main()
