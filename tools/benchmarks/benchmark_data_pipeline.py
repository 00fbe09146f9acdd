"""Images/s per dataloader worker of a config's real training pipeline, on COCO-sized data.

Generates ``--images`` COCO-Stuff-164k-like samples (640 x 480 JPEG + PNG label map, in
the dataset's layout) in a temporary folder, then measures side by side, in one process with
one thread as a dataloader worker runs it (OpenCV single-threaded, as mmengine's
``opencv_num_threads=0`` sets it). A worker's rate is images per CPU second of that process
(what one worker costs one core, on a busy machine too); the wall-clock rate is printed
beside it:

1. ``plain_*``: ``--config``'s ``train_dataloader.dataset`` with its pipeline (decode, resize,
   crop, pack), built by mmengine/mmseg as the Runner builds it;
2. ``preresized_*``: the same samples written once through
   ``tools/dataset_converters/preresize_coco_stuff.py`` and read by ``--preresized-config``;
3. ``feature_cache_*``: ``model.feature_cache`` reading back one image's ViT-B/16 backbone
   outputs (what ``coseg_prefix_cocostuff_cached-features.py`` does in the training process
   every step), per image;
4. per path, the workers needed to feed ``--target`` images/s and whether the config's
   ``num_workers`` does, on a ``--cores``-core machine (one core left to the training
   process);
5. with ``--loader-workers N ...``: images/s of mmengine's DataLoader built from each config
   with N workers (collation included): what the per-worker figure predicts, measured.

The order of the two paths alternates per round; figures are medians over ``--repeats`` rounds.

Usage: python tools/benchmarks/benchmark_data_pipeline.py [--images 64] [--repeats 3]
    [--target 1113]
           [--cores 16] [--loader-workers 4 12]
"""
import argparse
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import torch

import coseg_mmseg  # noqa: F401  (registers the components)
from coseg_tools.benchmarking import cpu_model, feed_verdict, load_config
from coseg_tools.generators import write_coco_stuff_split

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PLAIN = 'configs/coseg/coseg_prefix_1xb64-bf16_cocostuff.py'
PRERESIZED = 'configs/coseg/coseg_prefix_1xb64-bf16_cocostuff-224.py'
CONVERTER = osp.join(REPO, 'tools', 'dataset_converters', 'preresize_coco_stuff.py')


def make_coco_sized_data(root: str, count: int, *, height: int = 480, width: int = 640,
                         seed: int = 0) -> None:
    """``count`` samples in COCO-Stuff-164k's layout under ``root`` (train2017): photo-like
    JPEGs (smooth regions, edges and sensor-like noise, quality 90 like COCO's) and label maps
    of a few regions of the 171 classes and 255."""
    write_coco_stuff_split(root, 'train2017', draw_coco_sized_samples(count, height, width, seed),
                           first_id=0, jpeg_quality=90)


def draw_coco_sized_samples(count: int, height: int, width: int, seed: int):
    """The samples of :func:`make_coco_sized_data`: (image BGR uint8, label uint8) pairs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    for _ in range(count):
        label = np.full((height, width), 255, np.uint8)
        img = np.empty((height, width, 3), np.float32)
        base = rng.uniform(0, 255, 3)
        img[:] = base + 40 * np.sin(xx[..., None] / rng.uniform(20, 80) + rng.uniform(0, 6, 3))
        for _ in range(int(rng.integers(4, 9))):  # ellipses of one class and one colour each
            cy, cx = rng.uniform(0, height), rng.uniform(0, width)
            ry, rx = rng.uniform(40, 200, 2)
            inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
            label[inside] = rng.integers(0, 171)
            img[inside] = rng.uniform(0, 255, 3) + 30 * np.cos(yy[inside, None] / 15)
        img += rng.normal(0, 8, img.shape)
        yield np.clip(img, 0, 255).astype(np.uint8), label


def build_dataset(config: str, data_root: str):
    """``config``'s training dataset (its own pipeline) on ``data_root``."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    cfg = load_config(config, {'train_dataloader.dataset.data_root': data_root})
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return DATASETS.build(cfg.train_dataloader.dataset), cfg


def seconds_per_pass(dataset) -> tuple:
    """Wall-clock and CPU seconds of this process to run the pipeline over every sample once.

    The CPU seconds are what a worker costs a core, whatever else the machine runs; the wall
    clock matches them on an idle machine only.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(len(dataset)):
        dataset[i]
    return time.perf_counter() - wall, time.process_time() - cpu


def loader_images_per_s(cfg, data_root: str, workers: int, batches: int) -> float:
    """Images/s of mmengine's DataLoader of ``cfg`` with ``workers`` workers over ``batches``
    batches, once the batches the workers prefetched while starting (``prefetch_factor`` 2
    each) are drained: the rate they sustain."""
    from mmengine.runner import Runner
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=workers, persistent_workers=workers > 0)
    loader_cfg['dataset'] = dict(loader_cfg['dataset'], data_root=data_root)
    loader_cfg['sampler'] = dict(type='InfiniteSampler', shuffle=True)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    batches_iter = iter(loader)
    for _ in range(2 * workers + 1):
        next(batches_iter)
    start = time.perf_counter()
    images = sum(len(next(batches_iter)['inputs']) for _ in range(batches))
    return images / (time.perf_counter() - start)


def feature_cache_images_per_s(folder: str, count: int, repeats: int) -> tuple:
    """Images per CPU second of FeatureCache.get + stack_batch for ViT-B/16 outputs at 224,
    and the bytes of one cached file."""
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    from coseg_mmseg.models.utils.feature_cache import FeatureCache, split_batch, stack_batch
    backbone = MODELS.build(dict(type='FrozenCLIPBackbone'))  # ViT-B/16, random weights
    image = torch.randn(1, 3, 224, 224)
    single = split_batch(backbone(image), 1)[0]
    cache = FeatureCache(cache_dir=folder, dtype='float16')
    samples = [SegDataSample(metainfo=dict(img_path=f'{i}.jpg', img_shape=(224, 224)))
               for i in range(count)]
    for sample in samples:
        cache.put(sample, image[0], single)
    size = os.path.getsize(cache._path(samples[0]))

    def read():
        stack_batch([cache.get(s, image[0]) for s in samples], device='cpu',
                    dtype=torch.float32)
    read()
    return count / statistics.median(_seconds(read) for _ in range(repeats)), size


def _seconds(fn) -> float:
    """CPU seconds of this process for one call (the page-cache reads included, a disk's wait
    not: a lower bound on a real disk)."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def report_feed(name: str, per_worker: float, cfg, args) -> None:
    workers = cfg.train_dataloader.num_workers
    verdict = feed_verdict(workers, per_worker, args.target, args.cores)
    print(f'{name}_config_num_workers: {workers}')
    print(f'{name}_workers_needed_for_{args.target:g}: {verdict["workers_needed"]}')
    print(f'{name}_config_workers_images_per_s_bound: {verdict["fed_images_per_s"]:.0f}')
    print(f'{name}_config_workers_feed_target: {verdict["feeds"]}')
    print(f'{name}_needed_workers_fit_{args.cores}_cores: {verdict["fits_cores"]}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=PLAIN)
    parser.add_argument('--preresized-config', default=PRERESIZED)
    parser.add_argument('--images', type=int, default=64)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--target', type=float, default=1113,
                        help='images/s to feed (default: CoSeg-Prefix bf16 batch 64 training '
                             'on an H200, ../shared/DESIGN.md section 10)')
    parser.add_argument('--cores', type=int, default=16)
    parser.add_argument('--loader-workers', type=int, nargs='*', default=[])
    parser.add_argument('--loader-batches', type=int, default=40)
    parser.add_argument('--no-feature-cache', action='store_true')
    args = parser.parse_args()
    cv2.setNumThreads(0)  # as mmengine's Runner sets it before forking workers
    torch.set_num_threads(1)  # as torch's DataLoader sets it in each worker
    print(f'cpu: {cpu_model()} ({os.cpu_count()} logical cores here)')
    print(f'images: {args.images} (640x480 JPEG + PNG label)')
    with tempfile.TemporaryDirectory() as tmp:
        plain_root, pre_root = osp.join(tmp, 'coco'), osp.join(tmp, 'coco_224')
        make_coco_sized_data(plain_root, args.images)
        config, preresized = (osp.join(REPO, c) if not osp.isabs(c) else c
                              for c in (args.config, args.preresized_config))
        subprocess.run([sys.executable, CONVERTER, config, '--src', plain_root, '--out',
                        pre_root], check=True, stdout=subprocess.DEVNULL)
        plain, plain_cfg = build_dataset(config, plain_root)
        pre, pre_cfg = build_dataset(preresized, pre_root)
        for dataset in (plain, pre):
            seconds_per_pass(dataset)  # warm-up: the file cache holds both sets
        rounds = []
        for r in range(args.repeats):
            order = [('plain', plain), ('preresized', pre)][::1 if r % 2 == 0 else -1]
            rounds.append({name: seconds_per_pass(ds) for name, ds in order})
        wall = {name: args.images / statistics.median(x[name][0] for x in rounds)
                for name in ('plain', 'preresized')}
        rates = {name: args.images / statistics.median(x[name][1] for x in rounds)
                 for name in ('plain', 'preresized')}
        for name, config_name in (('plain', args.config),
                                  ('preresized', args.preresized_config)):
            print(f'{name}_config: {config_name}')
            print(f'{name}_images_per_s_per_worker: {rates[name]:.1f}')
            print(f'{name}_images_per_wall_s_one_process: {wall[name]:.1f}')
        print(f'preresized_over_plain: {rates["preresized"] / rates["plain"]:.2f}')
        print(f'target_images_per_s: {args.target:g}')
        report_feed('plain', rates['plain'], plain_cfg, args)
        report_feed('preresized', rates['preresized'], pre_cfg, args)
        if not args.no_feature_cache:
            per_s, size = feature_cache_images_per_s(osp.join(tmp, 'cache'), 32, args.repeats)
            print(f'feature_cache_file_mb: {size / 2**20:.2f}')
            print(f'feature_cache_read_images_per_cpu_s_main_process: {per_s:.1f}')
        for workers in args.loader_workers:
            torch.set_num_threads(os.cpu_count())
            for name, cfg, root in (('plain', plain_cfg, plain_root),
                                    ('preresized', pre_cfg, pre_root)):
                rate = loader_images_per_s(cfg, root, workers, args.loader_batches)
                print(f'{name}_loader_{workers}_workers_images_per_s: {rate:.1f}')


if __name__ == '__main__':
    main()
