"""The no-training baseline from an image file on disk, against transformers' own pipeline.

Parity tests that hand both implementations the same tensor cannot see preprocessing. Here one
JPEG file goes through the project's path (the no-train config's test pipeline, its data
preprocessor, the model, as ``tools/test.py`` runs them) and through transformers' processors
and models, as the paper describes the baseline: ``CLIPProcessor`` + ``CLIPModel`` rank the
vocabulary, ``CLIPSegProcessor`` + ``CLIPSegForImageSegmentation`` draw one mask per kept
label. The models are tiny and random (``tests/conftest.py``); the processors are the real classes with the real settings
(CIDAS/clipseg-rd64-refined: 352 x 352 squash, bilinear, ImageNet's statistics;
openai/clip-vit-base-patch16: shortest edge 224, bicubic, centre crop 224, CLIP's statistics),
and a CLIP tokenizer built from the BPE vocabulary shipped in open_clip.

What each comparison measured, and what the code before each fix gave:
docs/benchmarks/test_margins_cpu.txt.
"""
import functools
import glob
import os

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmseg.registry import MODELS
from PIL import Image

from coseg_tools.generators import TINY_BACKBONE, TINY_TEXT_ENCODER
from coseg_tools.generators.tiny_assets import _draw_scene

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
NO_TRAIN = 'configs/coseg/coseg_no-train_cocostuff.py'
# Every no-train config at the real size (the tiny one runs at 96 x 96).
NO_TRAIN_CONFIGS = sorted(
    os.path.relpath(path, REPO) for path in glob.glob(
        os.path.join(REPO, 'configs/coseg/**/coseg_no-train_*.py'), recursive=True)
    if '_tiny_' not in path)
NAMES = ('dog', 'sky', 'potted plant', 'sea', 'road', 'person', 'car', 'grass', 'building')
NUM_SLOTS = 4
# Bounds, set from what was measured on this file (module docstring), per transformers backend.
CLIPSEG_INPUT = dict(pil=1e-5, torchvision=0.02)  # normalised units
RANK_INPUT = dict(pil=(1e-6, 1e-7), torchvision=(0.016, 1e-4))  # max, mean; normalised units
SIMS = dict(pil=1e-6, torchvision=1e-4)  # cosine similarity
MASK_LOGITS = dict(pil=1e-5, torchvision=0.02)
# The facts (DESIGN.md section 7), written out here rather than imported from the code tested.
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


@pytest.fixture(scope='module')
def image_file(tmp_path_factory) -> str:
    """A 480 x 640 (COCO's usual size) JPEG scene: grass/sea/road with things, noisy."""
    image, _ = _draw_scene(np.random.default_rng(7), 480, 640)
    path = str(tmp_path_factory.mktemp('from-file') / 'scene.jpg')
    cv2.imwrite(path, image)
    return path


@functools.lru_cache(maxsize=None)
def clip_tokenizer():
    """transformers' CLIPTokenizer from the BPE vocabulary open_clip ships (offline)."""
    from open_clip.tokenizer import SimpleTokenizer
    from transformers import CLIPTokenizer
    bpe = SimpleTokenizer()
    special = {'<start_of_text>': '<|startoftext|>', '<end_of_text>': '<|endoftext|>'}
    vocab = {special.get(token, token): i for token, i in bpe.encoder.items()}
    merges = [pair for pair, _ in sorted(bpe.bpe_ranks.items(), key=lambda x: x[1])]
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)


@functools.lru_cache(maxsize=None)
def hf_processors(backend: str = 'torchvision'):
    """(CLIPSegProcessor, CLIPProcessor) with the released checkpoints' settings; ``backend``
    picks transformers' image processors: ``'torchvision'`` (its default) or ``'pil'``."""
    from transformers import (CLIPImageProcessor, CLIPProcessor, CLIPSegProcessor,
                              ViTImageProcessor)
    from transformers.image_utils import PILImageResampling
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil
    seg_images, clip_images = dict(pil=(ViTImageProcessorPil, CLIPImageProcessorPil),
                                   torchvision=(ViTImageProcessor, CLIPImageProcessor))[backend]
    tokenizer = clip_tokenizer()
    clipseg = CLIPSegProcessor(
        image_processor=seg_images(
            do_resize=True, size={'height': 352, 'width': 352},
            resample=PILImageResampling.BILINEAR, do_rescale=True, do_normalize=True,
            image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD),
        tokenizer=tokenizer)
    clip = CLIPProcessor(
        image_processor=clip_images(
            do_resize=True, size={'shortest_edge': 224}, resample=PILImageResampling.BICUBIC,
            do_center_crop=True, crop_size={'height': 224, 'width': 224}, do_rescale=True,
            do_normalize=True, image_mean=CLIP_MEAN, image_std=CLIP_STD),
        tokenizer=tokenizer)
    return clipseg, clip


def tiny_no_train_cfg(clip_dir: str, clipseg_dir: str) -> Config:
    """The no-train config as users run it, with the tiny models' sizes and weights."""
    cfg = Config.fromfile(os.path.join(REPO, NO_TRAIN))
    clip = dict(type='CLIPPretrained', source='huggingface', checkpoint=clip_dir)
    clipseg = dict(type='CLIPPretrained', source='huggingface', checkpoint=clipseg_dir)
    model = cfg.model
    model.backbone.update(TINY_BACKBONE, init_cfg=clipseg)
    model.rank_backbone.update({**TINY_BACKBONE, 'out_indices': ()}, init_cfg=clip)
    model.text_encoder.update(TINY_TEXT_ENCODER, init_cfg=clip)
    model.cond_text_encoder.update(TINY_TEXT_ENCODER, init_cfg=clipseg)
    model.decode_head.update(in_channels=TINY_BACKBONE['embed_dims'], channels=16,
                             cond_channels=TINY_BACKBONE['output_dim'], num_heads=2,
                             ffn_channels=64, init_cfg=clipseg)
    model.update(num_slots=NUM_SLOTS, test_vocabulary=NAMES)
    return cfg


def pipeline_batch(cfg: Config, path: str) -> dict:
    """The config's test pipeline (annotations left out) on the file, collated."""
    steps = [s for s in cfg.test_dataloader.dataset.pipeline
             if not s['type'].endswith('Annotations')]
    return pseudo_collate([Compose(steps)(dict(img_path=path))])


def test_every_no_train_config_is_checked():
    assert {NO_TRAIN, 'configs/coseg/zero-shot/coseg_no-train_voc20.py'} <= set(NO_TRAIN_CONFIGS)


@pytest.mark.parametrize('config', NO_TRAIN_CONFIGS)
def test_clipseg_input_is_clipseg_processors(config, image_file):
    """Every no-train config feeds CLIPSeg what CLIPSegProcessor makes of the file."""
    cfg = Config.fromfile(os.path.join(REPO, config))
    inputs = MODELS.build(cfg.model.data_preprocessor)(pipeline_batch(cfg, image_file))['inputs']
    pil = Image.open(image_file).convert('RGB')
    for backend in ('pil', 'torchvision'):
        ref = hf_processors(backend)[0](images=pil, return_tensors='pt').pixel_values
        assert inputs.shape == ref.shape == (1, 3, 352, 352)
        assert (inputs - ref).abs().max() <= CLIPSEG_INPUT[backend], backend


@pytest.mark.parametrize('config', NO_TRAIN_CONFIGS)
def test_rank_input_is_clip_processors(config, image_file):
    """Every no-train config hands the model CLIPImageProcessor's view of the file."""
    cfg = Config.fromfile(os.path.join(REPO, config))
    batch = MODELS.build(cfg.model.data_preprocessor)(pipeline_batch(cfg, image_file))
    view = batch['data_samples'][0].metainfo['clip_rank_input']
    ref = hf_processors('pil')[1](images=Image.open(image_file).convert('RGB'),
                                  return_tensors='pt').pixel_values[0]
    assert view.shape == ref.shape == (3, 224, 224)
    assert (view - ref).abs().max() <= RANK_INPUT['pil'][0]


@pytest.fixture(scope='module')
def ours(tiny_clip_dir, tiny_clipseg_dir, image_file) -> dict:
    """The user's path (tools/test.py's ``test_step``) on the file, with what CLIP and CLIPSeg's
    decoder were given and gave."""
    cfg = tiny_no_train_cfg(tiny_clip_dir, tiny_clipseg_dir)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    seen = {}
    model.rank_backbone.register_forward_pre_hook(
        lambda module, args: seen.__setitem__('rank_input', args[0]))
    predict_by_feat = model.decode_head.predict_by_feat  # mmseg calls head.forward directly

    def keep_head_outputs(outputs, batch_img_metas):
        seen['head'] = outputs
        return predict_by_feat(outputs, batch_img_metas)

    model.decode_head.predict_by_feat = keep_head_outputs
    with torch.no_grad():
        seen['result'] = model.test_step(pipeline_batch(cfg, image_file))[0]
        embed = model.rank_backbone(seen['rank_input'], final='image_embed')['image_embed']
        seen['sims'] = (torch.nn.functional.normalize(embed, dim=-1) @
                        model.text_encoder(NAMES).t())[0]  # (K, ) cosine similarities
    seen['mask_threshold'] = model.decode_head.mask_threshold
    return seen


@pytest.mark.parametrize('backend', ['pil', 'torchvision'])
def test_masks_and_labels_match_transformers_from_the_file(ours, tiny_clip_dir,
                                                           tiny_clipseg_dir, image_file,
                                                           backend):
    from transformers import CLIPModel, CLIPSegForImageSegmentation
    pil = Image.open(image_file).convert('RGB')
    clipseg_proc, clip_proc = hf_processors(backend)
    assert ours['result'].pred_sem_seg.data.shape == (1, 480, 640)

    # Ranking: CLIP on CLIPImageProcessor's centre crop, "a photo of a {}." prompts.
    clip = CLIPModel.from_pretrained(tiny_clip_dir).eval()
    rank_in = clip_proc(text=[f'a photo of a {n}.' for n in NAMES], images=pil,
                        return_tensors='pt', padding=True)
    with torch.no_grad():
        sims = clip(**rank_in, interpolate_pos_encoding=True).logits_per_image[0]
        sims = sims / clip.logit_scale.exp()  # (K, ) cosine similarities
    err = (ours['rank_input'] - rank_in.pixel_values).abs()
    bound_max, bound_mean = RANK_INPUT[backend]
    assert err.max() <= bound_max and err.mean() <= bound_mean, (err.max(), err.mean())
    assert (ours['sims'] - sims).abs().max() <= SIMS[backend], (ours['sims'] - sims).abs().max()
    top = sims.sort(descending=True).values[:NUM_SLOTS + 1]
    assert (top[:-1] - top[1:]).min() > 4 * SIMS[backend]  # the order compared is not chance
    labels = ours['head']['slot_classes'][0]
    assert labels.tolist() == sims.topk(NUM_SLOTS).indices.tolist()

    # Masks: CLIPSeg once per kept label, on CLIPSegProcessor's input.
    clipseg = CLIPSegForImageSegmentation.from_pretrained(tiny_clipseg_dir).eval()
    with torch.no_grad():
        ref = torch.stack([
            clipseg(**clipseg_proc(text=[NAMES[c]], images=[pil], return_tensors='pt'),
                    interpolate_pos_encoding=True).logits.reshape(352, 352)
            for c in labels.tolist()])  # (k, 352, 352)
    logits = ours['head']['mask_logits'][0]
    bound = MASK_LOGITS[backend]
    assert (logits - ref).abs().max() <= bound
    # The masks: thresholded at the model's 0.3 and, as the tiny random CLIPSeg's logits all
    # lie near 0, at each mask's median; pixels may differ only where the reference is within
    # the bound of the threshold.
    thresholds = [torch.tensor(ours['mask_threshold']).logit(),
                  ref.flatten(1).median(1).values.view(-1, 1, 1)]  # (k, 1, 1)
    for thr in thresholds:
        differ = (logits > thr) != (ref > thr)
        assert not (differ & ((ref - thr).abs() > bound)).any()
