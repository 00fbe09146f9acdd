import pytest
import torch

from coseg_mmseg.models import CoexistenceNeck


def build(mode: str, **kwargs) -> CoexistenceNeck:
    torch.manual_seed(0)
    return CoexistenceNeck(mode=mode, num_slots=5, in_channels=24, embed_dims=16,
                           out_channels=12, num_heads=4, depth=2, encoder_depth=1,
                           decoder_depth=1, **kwargs)


@pytest.mark.parametrize('mode', ['prefix', 'xatten'])
def test_shapes_and_gradients(mode):
    neck = build(mode)
    feats = dict(visual_tokens=torch.randn(2, 9, 24), other='kept')
    out = neck(feats)
    assert out['slot_embeds'].shape == (2, 5, 12)
    assert out['other'] == 'kept' and 'slot_embeds' not in feats
    out['slot_embeds'].sum().backward()
    assert neck.slot_queries.grad is not None and neck.slot_queries.grad.abs().sum() > 0


@pytest.mark.parametrize('mode', ['prefix', 'xatten'])
def test_tokens_read_the_image(mode):
    neck = build(mode)
    a = neck(dict(visual_tokens=torch.randn(1, 9, 24)))['slot_embeds']
    b = neck(dict(visual_tokens=torch.randn(1, 9, 24)))['slot_embeds']
    assert not torch.allclose(a, b)
    # Each slot predicts its own embedding (position-encoded tokens).
    assert not torch.allclose(a[0, 0], a[0, 1])


def test_modes_differ_for_the_same_seed():
    tokens = torch.randn(1, 9, 24)
    assert not torch.allclose(build('prefix')(dict(visual_tokens=tokens))['slot_embeds'],
                              build('xatten')(dict(visual_tokens=tokens))['slot_embeds'])


def test_bad_mode_and_shapes_name_the_key():
    with pytest.raises(ValueError, match="neck.mode must be one of .*'prefx'"):
        build('prefx')
    with pytest.raises(ValueError, match=r'neck.in_channels=24.*\(2, 9, 32\)'):
        build('prefix')(dict(visual_tokens=torch.randn(2, 9, 32)))
