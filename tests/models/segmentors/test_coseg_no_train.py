import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from open_clip.tokenizer import SimpleTokenizer
from transformers import CLIPSegConfig, CLIPSegForImageSegmentation

from coseg_mmseg.models.clip import convert_hf_clip, load_submodule_weights
from coseg_tools.generators import (TINY_BACKBONE, TINY_PROJECTION_DIM, TINY_TEXT_ENCODER,
                                    rescale_clipseg_decoder, tiny_clip_images)

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
NAMES = ('dog', 'sky', 'potted plant', 'sea', 'road', 'person', 'car')


def no_train_cfg(clip_dir, clipseg_dir, **overrides) -> dict:
    clip = dict(type='CLIPPretrained', checkpoint=clip_dir)
    clipseg = dict(type='CLIPPretrained', checkpoint=clipseg_dir)
    cfg = dict(
        type='CoSegNoTrain',
        backbone=dict(type='FrozenCLIPBackbone', **TINY_BACKBONE, init_cfg=clipseg),
        rank_backbone=dict(type='FrozenCLIPBackbone', **{**TINY_BACKBONE, 'out_indices': ()},
                           init_cfg=clip),
        rank_size=64,
        text_encoder=dict(type='FrozenCLIPTextEncoder', **TINY_TEXT_ENCODER, init_cfg=clip),
        cond_text_encoder=dict(type='FrozenCLIPTextEncoder', **TINY_TEXT_ENCODER,
                               init_cfg=clipseg),
        decode_head=dict(type='FiLMCLIPSegHead', in_channels=TINY_BACKBONE['embed_dims'],
                         channels=16, cond_channels=TINY_PROJECTION_DIM, num_heads=2,
                         ffn_channels=64, init_cfg=clipseg),
        num_slots=3, test_vocabulary=NAMES, test_cfg=ConfigDict(mode='whole'))
    cfg.update(overrides)
    return cfg


def build(cfg) -> torch.nn.Module:
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


def per_label_clipseg(hf, images: torch.Tensor, labels) -> torch.Tensor:
    """The paper's loop: CLIPSeg once per (image, label)."""
    with torch.no_grad():
        return torch.stack([
            torch.stack([hf(input_ids=SimpleTokenizer()([NAMES[c]]), pixel_values=image[None],
                            interpolate_pos_encoding=True).logits[0] for c in row.tolist()])
            for image, row in zip(images, labels)])


def test_masks_equal_clipseg_run_once_per_label(tiny_clip_dir, tiny_clipseg_dir):
    model = build(no_train_cfg(tiny_clip_dir, tiny_clipseg_dir))
    hf = CLIPSegForImageSegmentation.from_pretrained(tiny_clipseg_dir).eval()
    images = tiny_clip_images(2, size=96, seed=3)
    with torch.no_grad():
        out = model._forward(images)
    labels = out['slot_classes']
    assert labels.shape == (2, 3)
    ref = per_label_clipseg(hf, images, labels)
    assert (out['mask_logits'] - ref).abs().max().item() <= 1e-4


def test_slots_follow_the_ranking_clip(tiny_clip_dir, tiny_clipseg_dir):
    """The ranking CLIP sees CLIP's input, made from the ImageNet-normalised CLIPSeg input."""
    imagenet = dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                    std=[58.395, 57.12, 57.375])
    model = build(no_train_cfg(tiny_clip_dir, tiny_clipseg_dir, data_preprocessor=imagenet))
    images = tiny_clip_images(2, size=96, seed=3)  # ImageNet-normalised, 96 x 96 squashes of
    metas = [dict(img_shape=(96, 96), ori_shape=(120, 160)),  # a landscape file
             dict(img_shape=(96, 96), ori_shape=(96, 96))]  # a square one
    pixels = images * torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1) + torch.tensor(
        [123.675, 116.28, 103.53]).view(3, 1, 1)
    # CLIP's preprocessing of the 120 x 160 file: shortest edge to 64 -> 64 x 85, centre crop
    # from column 10; of the square one: 64 x 64.
    landscape = F.interpolate(pixels[:1], size=(64, 85), mode='bicubic', antialias=True)
    square = F.interpolate(pixels[1:], size=(64, 64), mode='bicubic', antialias=True)
    clip_pixels = torch.cat([landscape[..., 10:74], square]).clamp(0, 255)
    small = (clip_pixels - torch.tensor(CLIP_MEAN).view(3, 1, 1) * 255) / (
        torch.tensor(CLIP_STD).view(3, 1, 1) * 255)
    seen = []
    model.rank_backbone.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    with torch.no_grad():
        embed = model.rank_backbone(small)['image_embed']
        sims = F.normalize(embed, dim=-1) @ model.text_encoder(NAMES).t()
        samples = [SegDataSample(metainfo=meta) for meta in metas]
        labels = model._forward(images, samples)['slot_classes']
        torch.testing.assert_close(seen[-1], small, atol=1e-4, rtol=0)
        assert torch.equal(labels, sims.topk(3).indices)
        # predict() ranks the same way (tools/test.py and the API's segment()).
        scores = model.encode_decode(images, metas)
    for b in range(2):
        assert scores[b].flatten(1).amax(1).nonzero()[:, 0].tolist() == sorted(labels[b].tolist())


def test_shared_ranking_uses_the_segmentation_pass(tiny_clip_dir, tiny_clipseg_dir):
    model = build(no_train_cfg(tiny_clip_dir, tiny_clipseg_dir, rank_backbone=None))
    assert model.ranking == 'shared'
    images = tiny_clip_images(1, size=96, seed=4)
    embed = model.backbone(images)['image_embed']
    sims = torch.nn.functional.normalize(embed, dim=-1) @ model.text_encoder(NAMES).t()
    with torch.no_grad():
        assert torch.equal(model._forward(images)['slot_classes'], sims.topk(3).indices)


def test_k_larger_than_the_vocabulary_uses_it_all(tiny_clip_dir, tiny_clipseg_dir):
    model = build(no_train_cfg(tiny_clip_dir, tiny_clipseg_dir, num_slots=50))
    with torch.no_grad():
        labels = model._forward(tiny_clip_images(1, size=64))['slot_classes']
    assert sorted(labels[0].tolist()) == list(range(len(NAMES)))


def test_seg_logits_hold_the_kept_labels_only(tiny_clip_dir, tiny_clipseg_dir):
    model = build(no_train_cfg(tiny_clip_dir, tiny_clipseg_dir))
    images = tiny_clip_images(1, size=64, seed=5)
    with torch.no_grad():
        out = model._forward(images)
        scores = model.encode_decode(images, [dict(img_shape=(64, 64), pad_shape=(64, 64))])
    kept = out['slot_classes'][0]
    assert scores.shape == (1, len(NAMES), 64, 64)
    torch.testing.assert_close(scores[0, kept], out['mask_logits'][0].sigmoid())
    dropped = [c for c in range(len(NAMES)) if c not in kept.tolist()]
    assert scores[0, dropped].abs().max() == 0


def test_nothing_to_train(tiny_clip_dir, tiny_clipseg_dir):
    model = build(no_train_cfg(tiny_clip_dir, tiny_clipseg_dir))
    assert not any(p.requires_grad for p in model.parameters())
    assert not model.with_neck


def test_real_size_architecture_random_weights():
    """ViT-B/16 + rd64-refined sizes at 352 x 352: same masks as CLIPSeg's per-label loop."""
    torch.manual_seed(0)
    hf = rescale_clipseg_decoder(CLIPSegForImageSegmentation(CLIPSegConfig(
        vision_config=dict(patch_size=16), use_complex_transposed_convolution=True,
        reduce_dim=64)).eval())
    state = convert_hf_clip(hf.state_dict())
    vit = dict(type='FrozenCLIPBackbone')  # defaults are ViT-B/16's
    model = MODELS.build(dict(
        type='CoSegNoTrain', backbone=dict(vit, out_indices=(3, 6, 9)), rank_backbone=None,
        text_encoder=dict(type='FrozenCLIPTextEncoder'),
        decode_head=dict(type='FiLMCLIPSegHead', channels=64), num_slots=2,
        test_vocabulary=NAMES[:4], test_cfg=ConfigDict(mode='whole'))).eval()
    load_submodule_weights(model.backbone.visual, state, 'visual.', origin='random CLIPSeg')
    load_submodule_weights(model.text_encoder.text, state, 'text.', origin='random CLIPSeg')
    load_submodule_weights(model.decode_head, state, 'decoder.', origin='random CLIPSeg')
    images = tiny_clip_images(1, size=352, seed=6)
    with torch.no_grad():
        out = model._forward(images)
    ref = per_label_clipseg(hf, images, out['slot_classes'])
    assert (out['mask_logits'] - ref).abs().max().item() <= 1e-4
    assert ref.abs().max() > 1  # logits of a realistic size


@pytest.mark.parametrize('ranking', ['separate', 'shared'])
def test_each_clip_pass_computes_only_what_is_read(tiny_clip_dir, tiny_clipseg_dir, ranking):
    """CLIPSeg reads blocks 0-2 of 4 here: with a separate ranking pass the segmentation pass
    skips block 3; a pass that ranks runs its last block for the CLS token alone."""
    cfg = no_train_cfg(tiny_clip_dir, tiny_clipseg_dir)
    cfg['backbone'] = dict(cfg['backbone'], out_indices=(0, 1, 2))
    if ranking == 'shared':
        cfg['rank_backbone'] = None
    model = build(cfg)
    outputs = {}
    passes = [('seg', model.backbone)] + ([('rank', model.rank_backbone)]
                                          if ranking == 'separate' else [])
    hooks = [backbone.visual.transformer.resblocks[3].register_forward_hook(
        lambda m, args, out, name=name: outputs.__setitem__(name, tuple(out.shape)))
        for name, backbone in passes]
    with torch.no_grad():
        model._forward(tiny_clip_images(2, size=96))
    for hook in hooks:
        hook.remove()
    hidden = TINY_BACKBONE['embed_dims']
    expected = ({'rank': (2, 1, hidden)} if ranking == 'separate' else
                {'seg': (2, 1, hidden)})  # the CLS token alone, where the pass ranks
    assert outputs == expected
