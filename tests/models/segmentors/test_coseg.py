import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from coseg_tools.generators import TINY_BACKBONE, TINY_PROJECTION_DIM, TINY_TEXT_ENCODER

VOCAB = ('grass', 'sea', 'person')


def build_model(**overrides):
    torch.manual_seed(0)
    cfg = dict(
        type='CoSeg',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[0, 0, 0], std=[1, 1, 1],
                               size_divisor=16, test_cfg=dict(size_divisor=16)),
        backbone=dict(type='FrozenCLIPBackbone', **TINY_BACKBONE),
        text_encoder=dict(type='FrozenCLIPTextEncoder', **TINY_TEXT_ENCODER),
        neck=dict(type='CoexistenceNeck', num_slots=4, in_channels=TINY_PROJECTION_DIM,
                  embed_dims=32, out_channels=TINY_PROJECTION_DIM, depth=1),
        decode_head=dict(type='FiLMCLIPSegHead', in_channels=TINY_BACKBONE['embed_dims'],
                         channels=16, cond_channels=TINY_PROJECTION_DIM,
                         num_heads=2, ffn_channels=32),
        test_cfg=ConfigDict(mode='whole'))
    cfg.update(overrides)
    return MODELS.build(cfg)


def sample(h=64, w=64, seg=None):
    s = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
    if seg is not None:
        s.gt_sem_seg = PixelData(data=seg[None])
    return s


def test_training_step_returns_mmseg_losses_and_trains_only_neck_and_head():
    model = build_model(vocabulary=VOCAB)
    model.train()
    seg = torch.zeros(64, 64, dtype=torch.long)
    seg[20:40, 20:40] = 2
    seg[:4] = 255
    losses = model.loss(torch.randn(2, 3, 64, 64), [sample(seg=seg), sample(seg=seg)])
    assert set(losses) == {'decode.loss_coseg_mask', 'decode.loss_coseg_lang'}
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert all(p.grad is None for p in model.text_encoder.parameters())
    assert model.neck.slot_queries.grad.abs().sum() > 0
    assert model.decode_head.film_mul.weight.grad.abs().sum() > 0


def test_inference_gives_one_channel_per_test_class_and_no_label_pixels():
    model = build_model(test_vocabulary=VOCAB)
    model.eval()
    with torch.no_grad():
        results = model.predict(torch.randn(1, 3, 64, 80), [sample(64, 80)])
    scores = results[0].seg_logits.data
    pred = results[0].pred_sem_seg.data[0]
    assert scores.shape == (3, 64, 80)
    confident = scores.amax(0) >= 0.3
    assert torch.equal(pred[confident], scores.argmax(0)[confident])
    assert (pred[~confident] == 255).all()


def test_no_label_threshold():
    model = build_model(test_vocabulary=VOCAB)
    scores = torch.zeros(1, 3, 2, 2)
    scores[0, 1, 0, 0] = 0.9
    scores[0, 2, 1, 1] = 0.29
    pred = model.postprocess_result(scores, [sample(2, 2)])[0].pred_sem_seg.data[0]
    assert pred.tolist() == [[1, 255], [255, 255]]


def test_vocabulary_rules():
    model = build_model()
    with pytest.raises(RuntimeError, match='no test vocabulary.*CoSegVocabularyHook'):
        model.vocabulary_embeddings('test')
    model.set_dataset_classes(VOCAB, split='test')
    assert model.vocabulary_embeddings('test').shape == (4, TINY_PROJECTION_DIM)  # + unlabeled
    assert model.out_channels == 3
    with pytest.raises(ValueError, match="'unlabeled' twice"):
        model.set_vocabulary(['sky', 'unlabeled'], split='train')
    fixed = build_model(test_vocabulary=VOCAB)
    fixed.set_dataset_classes(['a', 'b', 'c'], split='test')  # fixed names win
    assert fixed.vocabulary['test'] == VOCAB
    with pytest.raises(ValueError, match='model.test_vocabulary has 3 names but VOC has 2'):
        fixed.set_dataset_classes(['a', 'b'], split='test', dataset='VOC')
    with pytest.raises(ValueError, match='model.vocabulary is empty'):
        build_model(vocabulary=[])
    with pytest.raises(ValueError, match='CoSeg needs model.neck'):
        build_model(neck=None)


def test_mixed_precision_training_step():
    """The model under autocast (what AmpOptimWrapper does on CUDA), here bf16 on CPU, gives
    the float32 step's losses and gradients within bfloat16's precision (unit roundoff
    u = 2^-8): each loss within 4u relative, the gradient vector within 8u (the measured
    margins: docs/benchmarks/test_margins_cpu.txt); and not identical, so the bf16 path did run."""
    u = 2.0**-8
    seg = torch.zeros(64, 64, dtype=torch.long)
    seg[20:40, 20:40] = 1
    image = torch.randn(2, 3, 64, 64)
    steps = []
    for enabled in (False, True):
        model = build_model(vocabulary=VOCAB)
        model.train()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=enabled):
            losses = model.loss(image, [sample(seg=seg), sample(seg=seg)])
        sum(losses.values()).backward()
        grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        steps.append(({k: v.item() for k, v in losses.items()}, grads))
    (full, full_grads), (mixed, mixed_grads) = steps
    assert set(mixed) == set(full)
    for key in full:
        assert mixed[key] == pytest.approx(full[key], rel=4 * u), key
    error = ((mixed_grads - full_grads).norm() / full_grads.norm()).item()
    assert 0 < error <= 8 * u
    assert torch.isfinite(mixed_grads).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('mode', ['prefix', 'xatten'])
def test_cuda_training_step_and_inference_match_cpu(mode):
    """The same model on CUDA: losses, trainable gradients and test scores equal the CPU's."""
    seg = torch.zeros(64, 64, dtype=torch.long)
    seg[20:40, 20:40] = 2
    seg[:4] = 255
    image = torch.randn(2, 3, 64, 64)
    neck = dict(type='CoexistenceNeck', mode=mode, num_slots=4, in_channels=TINY_PROJECTION_DIM,
                embed_dims=32, out_channels=TINY_PROJECTION_DIM, depth=2)
    results = []
    for device in ('cpu', 'cuda'):
        model = build_model(vocabulary=VOCAB, test_vocabulary=VOCAB, neck=neck).to(device)
        model.train()
        samples = [sample(seg=seg.to(device)), sample(seg=seg.to(device))]
        losses = model.loss(image.to(device), samples)
        sum(losses.values()).backward()
        grads = {n: p.grad.cpu() for n, p in model.named_parameters() if p.requires_grad}
        model.eval()
        with torch.no_grad():
            scores = model.predict(image[:1].to(device), [sample()])[0].seg_logits.data.cpu()
        results.append(({k: v.detach().cpu() for k, v in losses.items()}, grads, scores))
    (cpu_losses, cpu_grads, cpu_scores), (gpu_losses, gpu_grads, gpu_scores) = results
    for name in cpu_losses:  # cuDNN convolutions may use TF32: tolerances to match
        torch.testing.assert_close(gpu_losses[name], cpu_losses[name], atol=1e-3, rtol=1e-3)
    assert gpu_grads.keys() == cpu_grads.keys() and gpu_grads
    for name in cpu_grads:
        torch.testing.assert_close(gpu_grads[name], cpu_grads[name], atol=1e-3, rtol=1e-2,
                                   msg=lambda m: f'{name}: {m}')
    torch.testing.assert_close(gpu_scores, cpu_scores, atol=1e-3, rtol=1e-3)


def composed_head_inputs(model, inputs, split):
    """The head's inputs composed from the parts, independently of ``extract_feat``."""
    feats = model.neck(model.backbone(inputs))
    names = list(model.vocabulary[split]) + [model.unlabeled_name]
    feats['vocab_embeds'] = model.text_encoder(names)
    return feats


def assert_same(a, b, key=''):
    """Bit-identical tensors, or lists / tuples of them, or equal plain values."""
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), key
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), key
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f'{key}[{i}]')
    else:
        assert a == b, key


def test_one_method_builds_the_head_inputs_of_training_inference_and_export():
    """extract_feat (training's loss, inference, the ONNX graph) gives, bit for bit, what the
    parts composed by hand give."""
    from coseg_mmseg.deploy import CoSegScoresGraph
    model = build_model(vocabulary=VOCAB, test_vocabulary=('sky', 'dog'))
    inputs = torch.randn(2, 3, 64, 64)
    seg = torch.zeros(64, 64, dtype=torch.long)
    seg[20:40, 20:40] = 2
    samples = [sample(seg=seg), sample(seg=seg)]
    model.train()
    torch.manual_seed(1)
    losses = model.loss(inputs, samples)
    torch.manual_seed(1)
    expected = model.decode_head.loss(composed_head_inputs(model, inputs, 'train'), samples,
                                      model.train_cfg)
    assert {k.split('.', 1)[1]: v for k, v in losses.items()}.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(losses[f'decode.{key}'], value), key
    model.eval()
    with torch.no_grad():
        feats = model.extract_feat(inputs)
        reference = composed_head_inputs(model, inputs, 'test')
        assert feats.keys() == reference.keys()
        for key in reference:
            assert_same(feats[key], reference[key], key)
        graph = CoSegScoresGraph(model).eval()
        out = graph.head_outputs(inputs, reference['vocab_embeds'])
        expected_out = model.decode_head(reference)
        for key in expected_out:
            assert_same(out[key], expected_out[key], key)


def test_region_embeddings_embed_each_slots_masked_image():
    """Slot n's region embedding is CLIP's pooled embedding of the image with every pixel
    outside its mask (probability <= 0.5) set to 0, CLIP's mean colour in normalised units;
    a slot with an empty mask gets zeros. Masks at a lower resolution are upsampled first."""
    model = build_model(test_vocabulary=VOCAB)
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    logits = torch.full((1, 3, 64, 64), -4.0)
    logits[0, 0, :, :32] = 4.0  # left half
    logits[0, 1, 8:24, 40:56] = 0.3  # a square, probability 0.57
    # slot 2: empty
    with torch.no_grad():
        region = model.region_embeddings(x, logits)
        for n, keep in enumerate((logits[0, 0] > 0, logits[0, 1] > 0)):
            by_hand = x.clone()
            by_hand[:, :, ~keep] = 0.0
            torch.testing.assert_close(
                region[0, n], model.backbone(by_hand)['image_embed'][0])
        assert torch.equal(region[0, 2], torch.zeros(TINY_PROJECTION_DIM))
        assert not torch.allclose(region[0, 0], region[0, 1])
        # the same masks at half the resolution: upsampled (bilinear) to the input
        half = torch.full((1, 1, 32, 32), -4.0)
        half[0, 0, :, :16] = 4.0
        torch.testing.assert_close(model.region_embeddings(x, half)[0, 0], region[0, 0])


def test_region_naming_weight_one_names_slots_by_clip_on_their_masked_images():
    """With decode_head.region_naming_weight=1 the paper rule's class scores are the slots'
    masks under the names CLIP gives their masked images (computed here from the backbone
    and text encoder directly), not under the slots' own names."""
    model = build_model(test_vocabulary=VOCAB)
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        plain = model.encode_decode(x, [sample().metainfo])
        model.decode_head.region_naming_weight = 1.0
        masks = model._forward(x)['mask_logits'][0]  # (N, 64, 64)
        vocab = F.normalize(model.text_encoder(list(VOCAB) + ['unlabeled']), dim=-1)
        expected = torch.zeros(len(VOCAB) + 1, 64, 64)
        named = []
        for mask in masks:
            keep = mask > 0
            if not keep.any():
                name = 0  # a zero embedding: every cosine 0, argmax takes the first name
            else:
                embed = model.backbone(torch.where(keep, x, torch.zeros(())))['image_embed']
                name = int((F.normalize(embed[0], dim=0) @ vocab.t()).argmax())
            named.append(name)
            expected[name] = torch.maximum(expected[name], mask.sigmoid())
        scores = model.encode_decode(x, [sample().metainfo])
    assert sum(bool((m > 0).any()) for m in masks) >= 2, 'the test needs non-empty masks'
    torch.testing.assert_close(scores[0], expected[:-1])
    assert not torch.allclose(scores, plain), 'region naming changed no name: no test'
