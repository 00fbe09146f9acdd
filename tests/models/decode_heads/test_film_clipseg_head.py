import pytest
import torch
from open_clip.tokenizer import SimpleTokenizer
from transformers import CLIPSegForImageSegmentation

from coseg_mmseg.models import FiLMCLIPSegHead, FrozenCLIPBackbone, FrozenCLIPTextEncoder
from coseg_mmseg.testing import (TINY_BACKBONE, TINY_PROJECTION_DIM, TINY_TEXT_ENCODER,
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
    init = dict(type='Pretrained', source='huggingface', checkpoint=path)
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
                               type='Pretrained', checkpoint=tiny_clipseg_dir))
    with pytest.raises(ValueError, match=r"shape mismatch.*film_mul.weight.*\(16, 32\).*\(64, 32\)"):
        head.init_weights()


def test_layer_count_must_match_backbone():
    head = tiny_head()
    feats = dict(layers=[torch.randn(1, 4, 64)] * 2, layers_cls=[torch.randn(1, 64)] * 2,
                 grid=(2, 2), slot_embeds=torch.randn(1, 3, 32))
    with pytest.raises(ValueError, match=r'num_layers=3.*2 activations.*out_indices'):
        head(feats)


def test_missing_cls_tokens_name_the_key():
    feats = dict(layers=[torch.randn(1, 4, 64)] * 3, layers_cls=None, grid=(2, 2),
                 slot_embeds=torch.randn(1, 3, 32))
    with pytest.raises(ValueError, match='use_cls_token=True but the backbone gives no CLS'):
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
    the probabilities are a softmax over the loss's temperature."""
    head = tiny_head()
    vocab = torch.eye(3)
    slot_embeds = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]])
    probs = head.name_slots(dict(slot_embeds=slot_embeds, vocab_embeds=vocab))
    assert probs.shape == (1, 2, 3)
    assert probs.argmax(-1).tolist() == [[0, 2]]
    tau = head.loss_decode.temperature
    expected = torch.tensor([1.0, 0.0, 0.0]).div(tau).softmax(0)
    torch.testing.assert_close(probs[0, 0], expected)
    fixed = head.name_slots(dict(slot_embeds=slot_embeds, vocab_embeds=vocab,
                                 slot_classes=torch.tensor([[1, 1]])))
    assert fixed.tolist() == [[[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]]


def test_film_layer_bounds():
    with pytest.raises(ValueError, match='film_layer=3'):
        tiny_head(film_layer=3)
