"""Benchmark the no-training baseline against CLIPSeg run once per label (as in the paper).

Real ViT-B/16 + CLIPSeg rd64-refined sizes, random weights (the compute is the same), k labels,
one image at a time. Prints one ``name: value`` line per figure:

    (a) the paper's loop: a CLIP ranking pass at 224, then transformers'
        CLIPSegForImageSegmentation once per kept label;
    (b) CoSegNoTrain, in both ranking modes: 'separate' (the paper's CLIP pass at 224) and
        'shared' (the pooled embedding of the same 352 pass);
    (c) one bare CLIP image-encoder pass at 352 (transformers' CLIPVisionModel);
and the ratios a/b and b/c, the same ratios in FLOPs (counted by
``torch.utils.flop_counter``: the floor the architecture sets), and how often the two modes'
top-k sets differ. Text embeddings are cached in every variant (computed before timing). The
variants alternate, one call each per round; seconds and ratios are medians over the rounds.

Usage: python tools/benchmarks/benchmark_no_train.py [--k 20] [--size 352] [--images 3]
    [--repeats 3]
                                         [--device cpu|cuda]
"""
import argparse
import statistics

import torch
from mmengine.config import ConfigDict
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from transformers import CLIPSegConfig, CLIPSegForImageSegmentation, CLIPVisionConfig, \
    CLIPVisionModel

import coseg_mmseg  # noqa: F401
from coseg_mmseg.models.clip import convert_hf_clip, load_submodule_weights
from coseg_tools.benchmarking import count_flops, once
from coseg_tools.cpu_heap import retain_freed_memory

VOCABULARY = [f'class {i}' for i in range(171)]


def build_models(k: int, device: str):
    torch.manual_seed(0)
    hf = CLIPSegForImageSegmentation(CLIPSegConfig(
        vision_config=dict(patch_size=16), use_complex_transposed_convolution=True,
        reduce_dim=64)).eval()
    state = convert_hf_clip(hf.state_dict())
    models = {}
    for ranking in ('separate', 'shared'):
        rank = dict(type='FrozenCLIPBackbone', out_indices=()) if ranking == 'separate' else None
        model = MODELS.build(dict(
            type='CoSegNoTrain', backbone=dict(type='FrozenCLIPBackbone', out_indices=(3, 6, 9)),
            rank_backbone=rank, text_encoder=dict(type='FrozenCLIPTextEncoder'),
            decode_head=dict(type='FiLMCLIPSegHead', channels=64), num_slots=k,
            test_vocabulary=VOCABULARY, test_cfg=ConfigDict(mode='whole'))).eval()
        load_submodule_weights(model.backbone.visual, state, 'visual.', origin='random')
        load_submodule_weights(model.text_encoder.text, state, 'text.', origin='random')
        load_submodule_weights(model.decode_head, state, 'decoder.', origin='random')
        if model.rank_backbone is not None:
            load_submodule_weights(model.rank_backbone.visual, state, 'visual.', origin='random')
        models[ranking] = model.to(device)
    vision = CLIPVisionModel(CLIPVisionConfig(patch_size=16)).eval()
    return hf.to(device), models, vision.to(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--k', type=int, default=20)
    parser.add_argument('--size', type=int, default=352)
    parser.add_argument('--images', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    args = parser.parse_args()
    device = args.device
    retained = device == 'cpu' and retain_freed_memory()  # as tools/test.py does on CPU
    register_all_modules(init_default_scope=True)
    hf, models, vision = build_models(args.k, device)
    images = torch.randn(args.images, 1, 3, args.size, args.size,
                         generator=torch.Generator().manual_seed(0)).to(device)
    separate = models['separate']
    vocab = separate.text_encoder(VOCABULARY)  # cached for every variant below
    cond = separate.text_encoder.encode(VOCABULARY, templates=('{}', ), normalize=False)
    for model in models.values():
        model.vocabulary_embeddings('test')
        model.text_encoder.encode(VOCABULARY, templates=('{}', ), normalize=False)

    def paper_loop(image):
        small = torch.nn.functional.interpolate(image, size=(224, 224), mode='bilinear')
        top = separate.rank_labels(small, None, vocab)[0]
        for c in top.tolist():
            hf(pixel_values=image, conditional_embeddings=cond[c:c + 1],
               interpolate_pos_encoding=True)

    runs = {  # name -> the call timed, per image
        'a': paper_loop,
        **{f'b_{ranking}': model._forward for ranking, model in models.items()},
        'c': lambda image: vision(pixel_values=image, interpolate_pos_encoding=True)}
    rounds = []  # one dict of seconds per (image, round): the variants alternate
    differ = 0
    with torch.no_grad():
        image = images[0]
        flops = {name: count_flops(lambda: run(image)) for name, run in runs.items()}
        for image in images:
            for run in runs.values():
                run(image)  # warm-up
            rounds += [{name: once(lambda: run(image), device) for name, run in runs.items()}
                       for _ in range(args.repeats)]
            tops = [set(m._forward(image)['slot_classes'][0].tolist()) for m in models.values()]
            differ += tops[0] != tops[1]
    seconds = {name: statistics.median(r[name] for r in rounds) for name in runs}
    ratio = {f'{x}_over_{y}': statistics.median(r[x] / r[y] for r in rounds)
             for x, y in [('a', 'b_separate'), ('a', 'b_shared'), ('b_separate', 'c'),
                          ('b_shared', 'c')]}
    print(f'device: {torch.cuda.get_device_name() if device == "cuda" else "cpu"}')
    print(f'threads: {torch.get_num_threads()}')
    print(f'retain_freed_memory: {retained}')
    print(f'k: {args.k}')
    print(f'input_size: {args.size}')
    print(f'images: {args.images}')
    print(f'a_per_label_loop_s: {seconds["a"]:.3f}')
    for ranking in ('separate', 'shared'):
        b = f'b_{ranking}'
        print(f'{b}_s: {seconds[b]:.3f}')
        print(f'a_over_b_{ranking}: {ratio[f"a_over_{b}"]:.2f}')
        print(f'{b}_over_c: {ratio[f"{b}_over_c"]:.3f}')
        print(f'flops_a_over_b_{ranking}: {flops["a"] / flops[b]:.2f}')
        print(f'flops_{b}_over_c: {flops[b] / flops["c"]:.3f}')
    print(f'c_clip_image_pass_s: {seconds["c"]:.3f}')
    print(f'c_clip_image_pass_gflops: {flops["c"] / 1e9:.1f}')
    print(f'topk_sets_differ: {differ}/{args.images}')


if __name__ == '__main__':
    main()
