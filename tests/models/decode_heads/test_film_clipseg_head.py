import math

import pytest
import torch
import torch.nn.functional as F
from open_clip.tokenizer import SimpleTokenizer
from transformers import CLIPSegForImageSegmentation

from coseg_mmseg.models import FiLMCLIPSegHead, FrozenCLIPBackbone, FrozenCLIPTextEncoder
from coseg_tools.generators import (TINY_BACKBONE, TINY_PROJECTION_DIM, TINY_TEXT_ENCODER,
                                    make_tiny_hf_clipseg, tiny_clip_images)

PROMPTS = ['a dog', 'the sky', 'a potted plant']


def tiny_head(**kwargs) -> FiLMCLIPSegHead:
    return FiLMCLIPSegHead(in_channels=TINY_BACKBONE['embed_dims'], channels=16,
                           cond_channels=TINY_PROJECTION_DIM, num_heads=2, ffn_channels=64,
                           **kwargs)


@pytest.mark.parametrize('complex_upsample', [True, False])
def test_parity_with_transformers_clipseg(tmp_path, tiny_clipseg_dir, complex_upsample):
    """Same logits as CLIPSegForImageSegmentation, one prompt per image, at an interpolated size
    (96 px for a 64 px model, as rd64-refined runs at 352 for 224)."""
    path = tiny_clipseg_dir if complex_upsample else make_tiny_hf_clipseg(
        str(tmp_path / 'simple'), complex_upsample=False)
    init = dict(type='CLIPPretrained', source='huggingface', checkpoint=path)
    backbone = FrozenCLIPBackbone(**TINY_BACKBONE, init_cfg=init)
    text = FrozenCLIPTextEncoder(**TINY_TEXT_ENCODER, init_cfg=init)
    head = tiny_head(complex_upsample=complex_upsample, init_cfg=init)
    for module in (backbone, text, head):
        module.init_weights()
    head.eval()
    hf = CLIPSegForImageSegmentation.from_pretrained(path).eval()

    images = tiny_clip_images(1, size=96).expand(len(PROMPTS), -1, -1, -1)
    token_ids = SimpleTokenizer()(PROMPTS)
    with torch.no_grad():
        ref = hf(input_ids=token_ids, pixel_values=images, interpolate_pos_encoding=True).logits
        cond = text.text(token_ids)  # CLIPSeg conditions on the projected, unnormalised features
        # Ours: the image once, its three prompts as N = 3 conditionals.
        feats = backbone(images[:1])
        masks = head(dict(feats, slot_embeds=cond[None]))['mask_logits'][0]
    assert masks.shape == ref.shape == (3, 96, 96)
    assert (masks - ref).abs().max().item() <= 1e-4
    assert ref.std() > 0.05  # the comparison is not between near-constant maps


def test_checkpoint_of_another_size_is_refused(tiny_clipseg_dir):
    head = FiLMCLIPSegHead(in_channels=TINY_BACKBONE['embed_dims'], channels=64,
                           cond_channels=TINY_PROJECTION_DIM, init_cfg=dict(
                               type='CLIPPretrained', checkpoint=tiny_clipseg_dir))
    with pytest.raises(ValueError, match=rf"^weights from huggingface checkpoint "
                                         rf"'{tiny_clipseg_dir}' do not fit FiLMCLIPSegHead.*"
                                         r"shape mismatch.*film_mul.weight.*\(16, 32\).*\(64, 32\)"):
        head.init_weights()


def test_loaded_head_is_marked_initialised(tiny_clipseg_dir):
    """After loading CLIPSeg the head says so: the segmentor's load_unloaded_pretrained,
    run before every predict, would otherwise read the checkpoint again each time."""
    head = tiny_head(init_cfg=dict(type='CLIPPretrained', checkpoint=tiny_clipseg_dir))
    assert head.is_init is False
    head.init_weights()
    assert head.is_init is True


def test_layer_count_must_match_backbone():
    head = tiny_head()
    feats = dict(layers=[torch.randn(1, 4, 64)] * 2, layers_cls=[torch.randn(1, 64)] * 2,
                 grid=(2, 2), slot_embeds=torch.randn(1, 3, 32))
    with pytest.raises(ValueError, match=r'num_layers=3.*2 activations.*out_indices'):
        head(feats)


def test_missing_cls_tokens_name_the_key():
    feats = dict(layers=[torch.randn(1, 4, 64)] * 3, layers_cls=None, grid=(2, 2),
                 slot_embeds=torch.randn(1, 3, 32))
    with pytest.raises(ValueError, match=r'^decode_head\.use_cls_token=True but the backbone '
                                         r'gives no CLS tokens; set use_cls_token=False$'):
        tiny_head()(feats)
    assert tiny_head(use_cls_token=False)(feats)['mask_logits'].shape == (1, 3, 32, 32)


def test_slot_scores_hand_made():
    """Slots take their nearest class; a class scores its slots' best mask probability."""
    head = tiny_head()
    vocab = torch.eye(3)  # classes 0, 1 and "unlabeled" (2)
    slot_embeds = torch.tensor([[[0.9, 0.1, 0.0], [0.0, 0.0, 1.0], [0.2, 0.8, 0.0],
                                 [1.0, 0.0, 0.1]]])  # -> 0, unlabeled, 1, 0
    logits = torch.tensor([0.0, 2.0, -1.0, 1.0])[None, :, None, None].expand(1, 4, 2, 2)
    scores = head.slot_scores(dict(mask_logits=logits, slot_embeds=slot_embeds,
                                   vocab_embeds=vocab))
    assert scores.shape == (1, 2, 2, 2)
    assert torch.allclose(scores[0, 0], torch.sigmoid(torch.tensor(1.0)).expand(2, 2))
    assert torch.allclose(scores[0, 1], torch.sigmoid(torch.tensor(-1.0)).expand(2, 2))


def test_name_slots_by_embedding_or_by_the_segmentor():
    """Slots are named by their nearest text embedding, unless ``slot_classes`` fixes them;
    the probabilities are a softmax over the head's naming temperature."""
    head = tiny_head()
    vocab = torch.eye(3)
    slot_embeds = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]])
    probs = head.name_slots(dict(slot_embeds=slot_embeds, vocab_embeds=vocab))
    assert probs.shape == (1, 2, 3)
    assert probs.argmax(-1).tolist() == [[0, 2]]
    tau = head.naming_temperature
    assert tau == 0.08  # the paper's
    expected = torch.tensor([1.0, 0.0, 0.0]).div(tau).softmax(0)
    torch.testing.assert_close(probs[0, 0], expected)
    fixed = head.name_slots(dict(slot_embeds=slot_embeds, vocab_embeds=vocab,
                                 slot_classes=torch.tensor([[1, 1]])))
    assert fixed.tolist() == [[[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]]


def test_naming_temperature_is_the_heads_not_the_losss():
    """The loss's temperature trains; only the head's names the slots (inference and the
    set-matching cost alike)."""
    vocab = torch.eye(3)
    slot_embeds = torch.tensor([[[0.6, 0.8, 0.0]]])  # cosines 0.6, 0.8, 0
    head = tiny_head(naming_temperature=0.5,
                     loss_decode=dict(type='CoSegLoss', temperature=0.02))
    probs = head.name_slots(dict(slot_embeds=slot_embeds, vocab_embeds=vocab))
    e = [math.exp(c / 0.5) for c in (0.6, 0.8, 0.0)]
    torch.testing.assert_close(probs[0, 0], torch.tensor(e) / sum(e))
    for bad in (0, -1.0, '0.08'):
        with pytest.raises(ValueError, match='decode_head.naming_temperature must be'):
            tiny_head(naming_temperature=bad)


def test_region_naming_is_the_geometric_mean_of_the_two_namings():
    """With region_naming_weight w the slot's naming distribution is proportional to
    p_slot ** (1 - w) * p_region ** w (ZegFormer's ensemble), each a softmax of cosines;
    without region_embeds (training) or at w = 0 the slot names alone."""
    torch.manual_seed(0)
    vocab = torch.randn(5, 8)  # 4 names + "unlabeled"
    slots, regions = torch.randn(2, 3, 8), torch.randn(2, 3, 8) * 3  # norms play no part
    outputs = dict(slot_embeds=slots, vocab_embeds=vocab, region_embeds=regions)
    tau = tiny_head().naming_temperature

    def softmax_of_cosines(x):
        cos = F.cosine_similarity(x[:, :, None], vocab[None, None], dim=-1)  # (2, 3, 5)
        return cos.div(tau).softmax(-1)

    p_slot, p_region = softmax_of_cosines(slots), softmax_of_cosines(regions)
    for w in (0.3, 1.0):
        mixed = p_slot ** (1 - w) * p_region ** w
        expected = mixed / mixed.sum(-1, keepdim=True)
        torch.testing.assert_close(tiny_head(region_naming_weight=w).name_slots(outputs),
                                   expected)
    assert not torch.allclose(p_slot, p_region, atol=0.1)  # the two namings differ
    torch.testing.assert_close(tiny_head(region_naming_weight=0.3).name_slots(
        dict(slot_embeds=slots, vocab_embeds=vocab)), p_slot)
    torch.testing.assert_close(tiny_head().name_slots(outputs), p_slot)
    for bad in (-0.1, 1.5, '0.5'):
        with pytest.raises(ValueError, match=r'region_naming_weight must be a number in \[0, 1\]'):
            tiny_head(region_naming_weight=bad)


def test_seen_calibration_lowers_seen_names_before_naming():
    """Cosine similarities to seen names drop by seen_calibration: a slot a little nearer a
    seen name than an unseen one is named by the unseen one once the gap is calibrated away."""
    vocab = torch.eye(3)  # names 0 (seen), 1 (unseen), "unlabeled"
    slot = torch.tensor([[[0.6, 0.5, 0.0]]])  # cosines 0.768 and 0.640 to names 0 and 1
    seen = torch.tensor([True, False, False])
    cos = F.normalize(slot[0, 0], dim=0)
    for gamma, named in [(0.0, 0), (0.1, 0), (0.2, 1)]:
        head = tiny_head(seen_calibration=gamma)
        probs = head.name_slots(dict(slot_embeds=slot, vocab_embeds=vocab, seen_mask=seen))
        tau = head.naming_temperature
        expected = (cos - gamma * seen.float()).div(tau).softmax(0)
        torch.testing.assert_close(probs[0, 0], expected)
        assert probs.argmax(-1).item() == named
    # no seen_mask (training, or a segmentor that gives none): no calibration
    head = tiny_head(seen_calibration=0.2)
    assert head.name_slots(dict(slot_embeds=slot, vocab_embeds=vocab)).argmax(-1).item() == 0
    with pytest.raises(ValueError, match='seen_calibration'):
        tiny_head(seen_calibration=-0.1)
    # a cosine gap is at most 2: 2 is accepted, 2.5 is not
    assert tiny_head(seen_calibration=2).seen_calibration == 2.0
    with pytest.raises(ValueError, match=r'seen_calibration must be a number in \[0, 2\].*2\.5'):
        tiny_head(seen_calibration=2.5)
    # off by default, even when the segmentor says which names are seen
    head = tiny_head()
    probs = head.name_slots(dict(slot_embeds=slot, vocab_embeds=vocab, seen_mask=seen))
    torch.testing.assert_close(probs[0, 0], cos.div(head.naming_temperature).softmax(0))


def test_film_layer_bounds():
    with pytest.raises(ValueError, match=r'^decode_head\.film_layer=3 must be a step in 0\.\.2 '):
        tiny_head(film_layer=3)


def test_decoder_argument_messages_name_the_key():
    """One-line errors naming the key and the bad value."""
    for kwargs, match in [
            (dict(patch_size=6), r'^decode_head\.complex_upsample needs patch_size divisible '
                                 r'by 4, got 6$'),
            (dict(layer_order='random'), r"^decode_head\.layer_order must be one of "
                                         r"\('deep_first', 'shallow_first'\), got 'random'$"),
            (dict(mask_head_padding='reflect'), r"^decode_head\.mask_head_padding must be one "
                                                r"of \('zeros', 'replicate'\), got 'reflect'$"),
            (dict(inference_rule='detectron2'), r"^decode_head\.inference_rule must be one of "
                                                r"\('paper', 'authors'\), got 'detectron2'$")]:
        with pytest.raises(ValueError, match=match):
            tiny_head(**kwargs)
    assert tiny_head(patch_size=6, complex_upsample=False).transposed_convolution.stride == (6, 6)


# ----------------------------------------------------------------- the authors' recipe options
AUTHORS_DECODER = dict(film_layer=(0, 1, 2), layer_order='shallow_first', decoder_act='gelu',
                       mask_head_act='gelu', mask_head_padding='replicate')


def authors_reference_decode(head, layers, layers_cls, grid, cond):
    """The authors' decoder loop (DESIGN section 8), written with torch's own modules and the
    head's weights copied in: per slot, per block (shallow first) ``a += reduce(act)``, FiLM,
    then a post-norm GELU ``nn.TransformerEncoderLayer`` (over the tokens of each image); CLS
    dropped; Conv3x3 (replicate) -> GELU -> ConvT -> GELU -> ConvT."""
    blocks = []
    for ours in head.layers:
        dims = ours.layer_norm1.normalized_shape[0]
        block = torch.nn.TransformerEncoderLayer(
            dims, head.layers[0].self_attn.num_heads, ours.mlp.fc1.out_features, dropout=0.0,
            activation=torch.nn.GELU(), batch_first=True)
        attn = ours.self_attn
        block.self_attn.in_proj_weight.data = torch.cat(
            [attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight])
        block.self_attn.in_proj_bias.data = torch.cat(
            [attn.q_proj.bias, attn.k_proj.bias, attn.v_proj.bias])
        block.self_attn.out_proj.load_state_dict(attn.out_proj.state_dict())
        block.linear1.load_state_dict(ours.mlp.fc1.state_dict())
        block.linear2.load_state_dict(ours.mlp.fc2.state_dict())
        block.norm1.load_state_dict(ours.layer_norm1.state_dict())
        block.norm2.load_state_dict(ours.layer_norm2.state_dict())
        blocks.append(block.eval())
    conv, _, deconv1, _, deconv2 = head.transposed_convolution
    masks = []
    for n in range(cond.shape[1]):
        c = cond[:, n][:, None]  # (B, 1, D)
        a = None
        for act, cls, reduce, block in zip(layers, layers_cls, head.reduces, blocks):
            hs = torch.cat([cls[:, None], act], dim=1)  # (B, 1 + L, C)
            a = reduce(hs) if a is None else a + reduce(hs)
            a = block(a * head.film_mul(c) + head.film_add(c))
        image = a[:, 1:].transpose(1, 2).unflatten(2, grid)  # (B, rd, h, w)
        x = F.gelu(F.conv2d(F.pad(image, (1, 1, 1, 1), mode='replicate'), conv.weight,
                            conv.bias))
        masks.append(deconv2(F.gelu(deconv1(x)))[:, 0])
    return torch.stack(masks, dim=1)


def test_authors_decoder_options_match_their_loop():
    torch.manual_seed(0)
    head = tiny_head(**AUTHORS_DECODER).eval()
    layers = [torch.randn(2, 6, 64) for _ in range(3)]
    layers_cls = [torch.randn(2, 64) for _ in range(3)]
    cond = torch.randn(2, 3, 32)
    with torch.no_grad():
        ours = head.decode(layers, layers_cls, (3, 2), cond)
        ref = authors_reference_decode(head, layers, layers_cls, (3, 2), cond)
        clipseg = tiny_head().eval()
        clipseg.load_state_dict(head.state_dict())
        default = clipseg.decode(layers, layers_cls, (3, 2), cond)
    assert ours.shape == ref.shape == (2, 3, 48, 32)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    assert (ours - default).abs().max() > 0.05  # the options change the decoder


@pytest.mark.parametrize('option', sorted(AUTHORS_DECODER))
def test_each_decoder_option_changes_the_masks(option):
    """Every option alone is live (same weights, different masks)."""
    torch.manual_seed(0)
    head = tiny_head().eval()
    feats = dict(layers=[torch.randn(1, 4, 64) for _ in range(3)],
                 layers_cls=[torch.randn(1, 64) for _ in range(3)], grid=(2, 2),
                 slot_embeds=torch.randn(1, 2, 32))
    for p in head.transposed_convolution.parameters():
        torch.nn.init.normal_(p)  # so that the padding mode of the 3x3 conv shows
    other = tiny_head(**{option: AUTHORS_DECODER[option]}).eval()
    other.load_state_dict(head.state_dict())
    with torch.no_grad():
        diff = (head(feats)['mask_logits'] - other(feats)['mask_logits']).abs().max()
    assert diff > 1e-3


def test_clipseg_weights_load_under_the_authors_options(tiny_clipseg_dir):
    init = dict(type='CLIPPretrained', source='huggingface', checkpoint=tiny_clipseg_dir)
    default, authors = tiny_head(init_cfg=init), tiny_head(**AUTHORS_DECODER, init_cfg=init)
    default.init_weights()
    authors.init_weights()
    ref = default.state_dict()
    assert ref.keys() == authors.state_dict().keys()
    for key, value in authors.state_dict().items():
        assert torch.equal(value, ref[key]), key


def authors_rule_outputs():
    """Five slots over a 1 x 5 image; naming temperature 1 so that confidences differ.

    Vocabulary: classes 0, 1 and "unlabeled" (2) on the axes. Slot confidences (softmax of
    the cosines): s0 [1, 0, 0] -> class 0, e / (e + 2) = 0.5761; s1 (2, 1, 0) / sqrt 5 ->
    class 0, e^0.894 / (e^0.894 + e^0.447 + 1) = 0.4881; s2 -> unlabeled; s3 -> class 1,
    0.5761; s4 = s0 (a tie: the first, s0, is kept). Pixel p is won by the slot with the high
    mask probability in column p.
    """
    vocab = torch.eye(3)
    slot_embeds = torch.tensor([[[1.0, 0, 0], [2, 1, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]]])
    p = torch.full((5, 5), 0.1)  # p[slot, pixel]
    p[0, 0], p[0, 1], p[1, 1], p[2, 2], p[3, 3], p[4, 4] = 0.9, 0.2, 0.99, 0.9, 0.8, 0.95
    logits = (p / (1 - p)).log()[None, :, None, :]  # (1, 5, 1, 5)
    return dict(mask_logits=logits, slot_embeds=slot_embeds, vocab_embeds=vocab)


def test_authors_inference_rule_hand_made():
    from types import SimpleNamespace

    from coseg_mmseg.models.segmentors.coseg_base import CoSegBase
    head = tiny_head(inference_rule='authors', mask_threshold=1e-6, naming_temperature=1.0)
    scores = head.slot_scores(authors_rule_outputs())
    c0 = math.e / (math.e + 2)
    assert scores.shape == (1, 2, 1, 5)
    # pixel 0: s0 (class 0, 0.9 x 0.5761); 1: s1 wins (0.99 x 0.4881 > 0.2 x 0.5761) but is
    # a less confident duplicate of s0: nothing; 2: "unlabeled"; 3: s3 (class 1, 0.8 x c);
    # 4: s4, the dropped tie of s0: nothing.
    expected = torch.tensor([[[0.9 * c0, 0, 0, 0, 0]], [[0, 0, 0, 0.8 * c0, 0]]])
    torch.testing.assert_close(scores[0], expected)
    # The segmentor's post-processing: argmax, "no label" (255) below the threshold.
    labels = CoSegBase.scores_to_labels(SimpleNamespace(decode_head=head), scores[0])
    assert labels.tolist() == [[[0, 255, 255, 1, 255]]]
    head.mask_threshold = 0.5  # the threshold applies to mask x class probability
    labels = CoSegBase.scores_to_labels(SimpleNamespace(decode_head=head), scores[0])
    assert labels.tolist() == [[[0, 255, 255, 255, 255]]]
    # The paper's rule on the same outputs: class 0 takes the max over s0, s1, s4.
    paper = tiny_head(naming_temperature=1.0)
    scores = paper.slot_scores(authors_rule_outputs())
    torch.testing.assert_close(scores[0], torch.tensor(
        [[[0.9, 0.99, 0.1, 0.1, 0.95]], [[0.1, 0.1, 0.1, 0.8, 0.1]]]))
    labels = CoSegBase.scores_to_labels(SimpleNamespace(decode_head=paper), scores[0])
    assert labels.tolist() == [[[0, 0, 255, 1, 0]]]


def test_authors_rule_runs_through_predict_by_feat():
    head = tiny_head(inference_rule='authors', mask_threshold=1e-6)
    out = authors_rule_outputs()
    meta = dict(img_shape=(1, 5), pad_shape=(1, 5))
    torch.testing.assert_close(head.predict_by_feat(out, [meta]), head.slot_scores(out))


def test_set_matching_assigner_in_the_loss():
    """Perfect masks of the classes in another order than by area: set matching gives them
    their own classes (BCE near 0); area order gives each slot another slot's class."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    gt = torch.tensor([[0, 0, 0, 1, 1, 2]]).expand(6, 6)  # areas 18 > 12 > 6
    sample = SegDataSample(gt_sem_seg=PixelData(data=gt[None]))
    logits = torch.stack([torch.where(gt == c, 20.0, -20.0) for c in (2, 0, 1)])[None]
    vocab = torch.eye(4)  # classes 0, 1, 2 and "unlabeled"
    out = dict(mask_logits=logits, slot_embeds=vocab[[2, 0, 1]][None], vocab_embeds=vocab)
    loss = dict(type='CoSegLoss', contrast='vocabulary', lang_weight=1.0, temperature=0.5)
    area = tiny_head(loss_decode=loss).loss_by_feat(out, [sample])  # the default assigner
    matched = tiny_head(loss_decode=loss, naming_temperature=0.5, train_cfg=dict(
        assigner=dict(type='SetMatchingAssigner'))).loss_by_feat(out, [sample])
    assert matched['loss_coseg_mask'].item() < 1e-6
    assert area['loss_coseg_mask'].item() > 5
    # The slots name their own classes: the vocabulary loss is at its floor under matching.
    # Cosines 1 (own class) and 0 (the 3 others) over tau 0.5: -log(e^2 / (e^2 + 3)); area
    # order names every slot's target with cosine 0: -log(1 / (e^2 + 3)).
    assert matched['loss_coseg_lang'].item() == pytest.approx(math.log(1 + 3 * math.exp(-2)),
                                                              rel=1e-5)
    assert area['loss_coseg_lang'].item() == pytest.approx(math.log(math.exp(2) + 3), rel=1e-5)


def test_recipe_options_are_checked():
    for kwargs, match in [
            (dict(inference_rule='detectron2'), 'inference_rule'),
            (dict(layer_order='random'), 'layer_order'),
            (dict(mask_head_padding='reflect'), 'mask_head_padding'),
            (dict(film_layer=(0, 5)), r'film_layer=\(0, 5\)'),
            (dict(film_layer=()), 'film_layer'),
            (dict(train_cfg=dict()), r'train_cfg=\{\} names no assigner'),
            (dict(train_cfg=dict(assigner=dict(type='HungarianAssigner', match_costs=[
                dict(type='DiceCost')]))), 'HungarianAssigner does not give slot targets'),
            (dict(inference_rule='authors', mask_threshold=0.0), 'mask_threshold=0.0'),
            (dict(decoder_act='swish'), r"decode_head.decoder_act must be .* 'swish'"),
            (dict(mask_head_act='tanh'), r"decode_head.mask_head_act must be .* 'tanh'")]:
        with pytest.raises(ValueError, match=match):
            tiny_head(**kwargs)


@pytest.mark.parametrize('patch_size', [8, 16, 32])
def test_masks_at_the_input_size_for_any_patch(patch_size):
    """The complex upsampling multiplies by the patch size, not (patch / 4)^2 (8 px: 4x)."""
    head = tiny_head(patch_size=patch_size)
    feats = dict(layers=[torch.randn(1, 6, 64)] * 3, layers_cls=[torch.randn(1, 64)] * 3,
                 grid=(2, 3), slot_embeds=torch.randn(1, 2, 32))
    assert head(feats)['mask_logits'].shape == (1, 2, 2 * patch_size, 3 * patch_size)


# ------------------------------------------------- layers and defaults against references
def reference_decoder_layer(layer, x, eps):
    """CLIPSeg's post-norm layer in plain tensor ops, reading ``layer``'s weights:
    ``ln1(x + attn(x))`` then ``ln2(x + fc2(relu(fc1(x))))``."""
    def linear(lin, t):
        return t @ lin.weight.t() + lin.bias

    def norm(ln, t):
        mean = t.mean(-1, keepdim=True)
        var = ((t - mean)**2).mean(-1, keepdim=True)
        return (t - mean) / torch.sqrt(var + eps) * ln.weight + ln.bias

    attn, heads = layer.self_attn, layer.self_attn.num_heads
    B, L, C = x.shape
    q, k, v = (linear(p, x).view(B, L, heads, C // heads).transpose(1, 2)
               for p in (attn.q_proj, attn.k_proj, attn.v_proj))
    weights = (q @ k.transpose(-1, -2) / math.sqrt(C // heads)).softmax(-1)
    mixed = (weights @ v).transpose(1, 2).reshape(B, L, C)
    x = norm(layer.layer_norm1, x + linear(attn.out_proj, mixed))
    hidden = linear(layer.mlp.fc1, x).clamp(min=0)
    return norm(layer.layer_norm2, x + linear(layer.mlp.fc2, hidden))


def test_decoder_layer_matches_plain_ops():
    """The layer's defaults are CLIPSeg's (ReLU MLP) and its eps reaches both layer norms
    (a large eps, 0.5, so that dropping it shows)."""
    from coseg_mmseg.models.decode_heads.film_clipseg_head import (CLIPSegDecoderLayer,
                                                                   CLIPSegMLP)
    torch.manual_seed(0)
    layer = CLIPSegDecoderLayer(8, 2, 16, eps=0.5).eval()
    for p in layer.parameters():
        torch.nn.init.normal_(p, std=0.5)  # non-trivial norms' affine weights
    x = torch.randn(2, 5, 8)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), reference_decoder_layer(layer, x, eps=0.5))
        mlp = CLIPSegMLP(8, 16)
        mlp.load_state_dict(layer.mlp.state_dict())
        expected = F.linear(F.linear(x, mlp.fc1.weight, mlp.fc1.bias).clamp(min=0),
                            mlp.fc2.weight, mlp.fc2.bias)
        torch.testing.assert_close(mlp(x), expected)


def test_default_head_is_clipseg_rd64():
    """Without arguments the head has rd64's shapes (ViT-B/16 activations 768, reduce_dim 64,
    projection 512, MLP 2048, 4 heads), so the checkpoint loads; and it decodes."""
    head = FiLMCLIPSegHead()
    assert head.reduces[0].weight.shape == (64, 768)
    assert head.film_mul.weight.shape == head.film_add.weight.shape == (64, 512)
    assert head.layers[0].mlp.fc1.weight.shape == (2048, 64)
    assert head.layers[0].self_attn.num_heads == 4
    feats = dict(layers=[torch.randn(1, 4, 768)] * 3, layers_cls=[torch.randn(1, 768)] * 3,
                 grid=(2, 2), slot_embeds=torch.randn(1, 1, 512))
    with torch.no_grad():
        assert head(feats)['mask_logits'].shape == (1, 1, 32, 32)


def test_forward_passes_the_naming_inputs_through():
    """The outputs carry what naming and the loss read: the slot embeddings, and the
    vocabulary, fixed slot classes and seen mask when the segmentor gives them."""
    head = tiny_head()
    inputs = dict(layers=[torch.randn(1, 4, 64)] * 3, layers_cls=[torch.randn(1, 64)] * 3,
                  grid=(2, 2), slot_embeds=torch.randn(1, 2, 32), vocab_embeds=torch.randn(3, 32),
                  slot_classes=torch.tensor([[0, 1]]), seen_mask=torch.tensor([True, False,
                                                                                False]))
    out = head(inputs)
    for key in ('slot_embeds', 'vocab_embeds', 'slot_classes', 'seen_mask'):
        assert out[key] is inputs[key], key


# ------------------------------------------------------------------------------ loss_by_feat
def label_sample(gt, path=None):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    sample = SegDataSample(gt_sem_seg=PixelData(data=gt[None]))
    if path is not None:
        sample.set_metainfo(dict(seg_map_path=path))
    return sample


def naming_outputs(mask_logits):
    """Two slots, a (K + 1 = 3, D = 5) vocabulary: D differs from K + 1 on purpose."""
    torch.manual_seed(1)
    return dict(mask_logits=mask_logits, slot_embeds=torch.randn(mask_logits.shape[0], 2, 5),
                vocab_embeds=torch.randn(3, 5))


@pytest.mark.parametrize('align_corners', [False, True])
def test_loss_resizes_the_masks_to_the_label_map(align_corners):
    """Masks smaller than the label map are resized bilinearly (the head's align_corners):
    the loss equals the loss of the masks resized by F.interpolate beforehand."""
    torch.manual_seed(0)
    head = tiny_head(**({'align_corners': True} if align_corners else {}))
    gt = torch.tensor([[0, 0, 1, 1, 1, 255]]).repeat(4, 1)  # (4, 6)
    small = torch.randn(1, 2, 2, 3) * 3
    large = F.interpolate(small, size=(4, 6), mode='bilinear', align_corners=align_corners)
    ours = head.loss_by_feat(naming_outputs(small), [label_sample(gt)])
    ref = head.loss_by_feat(naming_outputs(large), [label_sample(gt)])
    assert ours.keys() == ref.keys()
    for key in ref:
        torch.testing.assert_close(ours[key], ref[key])


def test_loss_reads_the_heads_ignore_index():
    """ignore_index=7 ignores the pixels labelled 7 exactly as 255 does by default."""
    torch.manual_seed(0)
    logits = torch.randn(1, 2, 2, 4)
    gt = torch.tensor([[0, 7, 1, 1], [7, 7, 0, 1]])
    ours = tiny_head(ignore_index=7).loss_by_feat(naming_outputs(logits), [label_sample(gt)])
    ref = tiny_head().loss_by_feat(naming_outputs(logits),
                                   [label_sample(torch.where(gt == 7, 255, gt))])
    for key in ref:
        torch.testing.assert_close(ours[key], ref[key])


def test_loss_names_the_label_map_holding_an_unknown_class():
    """The vocabulary has K = 2 classes (3 rows with "unlabeled"; 5 wide): class id 2 in a
    label map is refused with the map's file name, or '?' when the sample has none."""
    head = tiny_head()
    logits = torch.zeros(2, 2, 2, 2)
    good, bad = torch.zeros(2, 2, dtype=torch.long), torch.tensor([[0, 2], [1, 255]])
    with pytest.raises(ValueError, match=r'^ann/b\.png holds class ids \[2\] outside the '
                                         r'vocabulary of 2 classes \(ignore index 255\)'):
        head.loss_by_feat(naming_outputs(logits),
                          [label_sample(good, 'ann/a.png'), label_sample(bad, 'ann/b.png')])
    with pytest.raises(ValueError, match=r'^\? holds class ids \[2\]'):
        head.loss_by_feat(naming_outputs(logits), [label_sample(good, 'ann/a.png'),
                                                   label_sample(bad)])


# ------------------------------------------------------------ naming and inference, B = 2
def test_name_slots_with_a_vocabulary_not_square_nor_unit():
    """Cosines are taken along the embedding width (rows of a (K + 1, D) vocabulary of
    various norms), and fixed slot classes are float one-hots K + 1 wide."""
    head = tiny_head()
    vocab = torch.tensor([[2.0, 0, 0, 0], [0, 3, 0, 0], [1, 1, 0, 1]])  # K + 1 = 3, D = 4
    slots = torch.tensor([[[1.0, 1, 0, 0], [0, 0, 0, 2]]])
    probs = head.name_slots(dict(slot_embeds=slots, vocab_embeds=vocab))
    r2, r3 = math.sqrt(2), math.sqrt(3)
    cosines = torch.tensor([[1 / r2, 1 / r2, 2 / (r2 * r3)], [0, 0, 1 / r3]])
    tau = head.naming_temperature
    torch.testing.assert_close(probs[0], (cosines / tau).softmax(-1))
    fixed = head.name_slots(dict(slot_embeds=slots, vocab_embeds=vocab,
                                 slot_classes=torch.tensor([[2, 0]])))
    assert fixed.dtype == torch.float32
    assert fixed.tolist() == [[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]]


def reference_scores(probs, classes, confidence, rule, num_classes):
    """Both inference rules pixel by pixel in Python loops: (B, K, H, W)."""
    B, N, H, W = probs.shape
    scores = torch.zeros(B, num_classes, H, W)
    for b in range(B):
        kept = [all(not (classes[b][m] == classes[b][n] and (
            confidence[b][m] > confidence[b][n] or
            (confidence[b][m] == confidence[b][n] and m < n))) for m in range(N))
                for n in range(N)]
        for y in range(H):
            for x in range(W):
                if rule == 'paper':
                    for n in range(N):
                        if classes[b][n] < num_classes:
                            k = classes[b][n]
                            scores[b, k, y, x] = max(scores[b, k, y, x], probs[b, n, y, x])
                else:
                    products = [probs[b, n, y, x] * confidence[b][n] for n in range(N)]
                    n = max(range(N), key=lambda i: (products[i], -i))
                    if kept[n] and classes[b][n] < num_classes:
                        scores[b, classes[b][n], y, x] = products[n]
    return scores


def inference_outputs():
    """B = 2 images of 2 x 3 pixels, N = 4 slots; vocabulary of K = 2 classes, 4 wide.

    Image 0: s0 and s1 both name class 0, s0 less confident than s1 (the authors' rule keeps
    s1 only); s2 names class 1; s3 is "unlabeled". Image 1: its slot embeddings are image 0's
    in another order (s1 and s0 swapped: the more confident first).
    """
    vocab = torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]])
    first = torch.tensor([[1.0, 0.5, 0, 0], [1.0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]])
    slots = torch.stack([first, first[[1, 0, 2, 3]]])
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 2, 3)
    logits[:, 1, 0, 0] = logits[:, 0, 0, 1] = 5.0  # s1 wins pixel (0, 0), s0 pixel (0, 1)
    return dict(mask_logits=logits, slot_embeds=slots, vocab_embeds=vocab)


@pytest.mark.parametrize('rule', ['paper', 'authors'])
def test_slot_scores_against_pixel_loops(rule):
    """Both rules on a batch of two, against the rules written pixel by pixel."""
    head = tiny_head(inference_rule=rule)
    out = inference_outputs()
    label_probs = head.name_slots(out)
    confidence, classes = label_probs.max(-1)
    assert classes.tolist() == [[0, 0, 1, 2], [0, 0, 1, 2]]
    assert confidence[0, 0] < confidence[0, 1]
    expected = reference_scores(out['mask_logits'].sigmoid(), classes.tolist(),
                                confidence.tolist(), rule, num_classes=2)
    scores = head.slot_scores(out)
    assert scores.shape == (2, 2, 2, 3)
    torch.testing.assert_close(scores, expected)


def test_authors_rule_ties_keep_the_first_slot():
    """Slot classes fixed by the segmentor: every confidence is 1, so among slots of one
    class only the first is kept; a pixel won by a later one has no label."""
    head = tiny_head(inference_rule='authors')
    p = torch.tensor([[0.9, 0.2, 0.1], [0.1, 0.8, 0.3], [0.2, 0.1, 0.7]])  # p[slot, pixel]
    out = dict(mask_logits=(p / (1 - p)).log()[None, :, None, :],
               slot_embeds=torch.randn(1, 3, 4), vocab_embeds=torch.randn(3, 4),
               slot_classes=torch.tensor([[0, 0, 1]]))
    expected = torch.tensor([[[0.9, 0, 0]], [[0, 0, 0.7]]])
    torch.testing.assert_close(head.slot_scores(out)[0], expected)


# ---------------------------------------------------------------------------- predict_by_feat
@pytest.mark.parametrize('meta, size', [
    (dict(img_shape=(3, 5), pad_shape=(4, 6)), (4, 6)),  # the padded size
    (dict(img_shape=(4, 6)), (4, 6)),  # no padding recorded
    (dict(img_shape=torch.Size([3, 5]), pad_shape=(4, 6)), (3, 5)),  # slide inference's crop
])
@pytest.mark.parametrize('align_corners', [False, True])
def test_predict_by_feat_resizes_to_mmsegs_size(meta, size, align_corners):
    """Scores at another size than mmseg's are resized bilinearly with the head's
    align_corners (default False) to the size mmseg's BaseDecodeHead would use; at that size
    they are returned as they are, without mmseg's resize (of all K channels, at full size)."""
    head = tiny_head(**({'align_corners': True} if align_corners else {}))
    torch.manual_seed(0)
    out = dict(mask_logits=torch.randn(1, 2, 2, 3), slot_embeds=torch.randn(1, 2, 4),
               vocab_embeds=torch.randn(3, 4))
    scores = head.slot_scores(out)
    expected = F.interpolate(scores, size=size, mode='bilinear', align_corners=align_corners)
    torch.testing.assert_close(head.predict_by_feat(out, [meta]), expected)
    at_size = dict(out, mask_logits=torch.randn(1, 2, *size))
    scores = head.slot_scores(at_size)
    head.slot_scores = lambda outputs: scores
    assert head.predict_by_feat(at_size, [meta]) is scores
