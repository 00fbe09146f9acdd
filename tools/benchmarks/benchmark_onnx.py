"""CPU latency of the exported ONNX graph (onnxruntime) against PyTorch, at the real size.

CoSeg-Prefix and CoSeg-Xatten with CLIP ViT-B/16, N = 20 slots and the decoder of the paper
(random weights: nothing is downloaded, the compute is the same) are exported with
:func:`coseg_mmseg.deploy.export_onnx`; for each image size the script checks that
onnxruntime's scores equal PyTorch's (``*_max_abs_diff``, fp32) and times one image -> scores
call of each, alternating them round by round (medians; the ratio is the median of the
per-round ratios), both with the same number of threads. The vocabulary is COCO-Stuff's 171
classes (random embeddings: the text encoder is not part of the graph).

Prints one ``name: value`` line per figure.

Usage: python tools/benchmarks/benchmark_onnx.py [--sizes 224 352] [--repeats 5] [--threads N]
    [--modes prefix xatten]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import torch
from mmengine.config import ConfigDict
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

import coseg_mmseg  # noqa: F401
from coseg_mmseg.deploy import CoSegScoresGraph, export_onnx
from coseg_tools.benchmarking import cpu_model
from coseg_tools.cpu_heap import retain_freed_memory

CLIP_MEAN = [122.7709383, 116.7460125, 104.09373615]
CLIP_STD = [68.5005327, 66.6321579, 70.32316305]
NUM_CLASSES = 171


def coseg(mode: str) -> torch.nn.Module:
    """CoSeg at the paper's sizes (ViT-B/16, N = 20, decoder width 128), random weights."""
    return MODELS.build(dict(
        type='CoSeg', backbone=dict(type='FrozenCLIPBackbone', out_indices=(3, 6, 9)),
        text_encoder=dict(type='FrozenCLIPTextEncoder', disk_cache=False),
        neck=dict(type='CoexistenceNeck', mode=mode, num_slots=20),
        decode_head=dict(type='FiLMCLIPSegHead', channels=128),
        data_preprocessor=dict(type='SegDataPreProcessor', mean=CLIP_MEAN, std=CLIP_STD,
                               bgr_to_rgb=True),
        test_cfg=ConfigDict(mode='whole'))).eval()


def once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[224, 352])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    parser.add_argument('--modes', nargs='+', default=['prefix', 'xatten'],
                        choices=['prefix', 'xatten'])
    args = parser.parse_args()
    import onnxruntime as ort
    register_all_modules(init_default_scope=True)
    retained = retain_freed_memory()
    torch.set_num_threads(args.threads)
    print(f'command: {" ".join([os.path.basename(sys.executable)] + sys.argv)}')
    print(f'machine: {cpu_model()}, {os.cpu_count()} cpus, threads {args.threads}, load '
          f'average {" ".join(f"{x:.2f}" for x in os.getloadavg())}')
    print(f'torch: {torch.__version__}, onnxruntime: {ort.__version__}, '
          f'retain_freed_memory: {retained}')
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    g = torch.Generator().manual_seed(0)
    vocab = torch.randn(NUM_CLASSES + 1, 512, generator=g)
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes:
            torch.manual_seed(0)
            model = coseg(mode)
            graph = CoSegScoresGraph(model).eval()
            path = os.path.join(tmp, f'{mode}.onnx')
            start = time.perf_counter()
            export_onnx(model, path, vocab, size=(args.sizes[0], args.sizes[0]))
            print(f'{mode}_export_s: {time.perf_counter() - start:.1f}')
            print(f'{mode}_onnx_mib: {os.path.getsize(path) / 2**20:.1f}')
            session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
            for size in args.sizes:
                image = torch.rand(1, 3, size, size, generator=g) * 255
                feed = dict(image=image.numpy(), vocab_embeds=vocab.numpy())

                def run_torch():
                    with torch.no_grad():
                        return graph(image, vocab)

                def run_ort():
                    return session.run(None, feed)

                want, got = run_torch(), run_ort()
                diff = max(float(np.abs(o - w.numpy()).max()) for o, w in zip(got, want))
                name = f'{mode}_{size}'
                print(f'{name}_max_abs_diff: {diff:.3g}')
                print(f'{name}_scores_range: {float(want[0].min()):.3f} '
                      f'{float(want[0].max()):.3f}')
                rounds = [(once(run_torch), once(run_ort)) for _ in range(args.repeats)]
                print(f'{name}_pytorch_s: {statistics.median(t for t, _ in rounds):.4f}')
                print(f'{name}_onnxruntime_s: {statistics.median(o for _, o in rounds):.4f}')
                print(f'{name}_pytorch_over_onnxruntime: '
                      f'{statistics.median(t / o for t, o in rounds):.3f}')


if __name__ == '__main__':
    main()
