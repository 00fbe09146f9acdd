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


@pytest.mark.parametrize('mode', ['prefix', 'xatten'])
def test_learned_positions_are_trained_and_laid_on_the_grid(mode):
    """``positions='learned'``: slot and token positions are parameters that get gradients;
    the token positions are added to the visual tokens as the grid lays them out."""
    neck = build(mode, positions='learned', token_grid=(3, 3))
    assert {'slot_pos', 'token_pos'} <= {n for n, _ in neck.named_parameters()}
    tokens = torch.randn(2, 9, 24)
    neck(dict(visual_tokens=tokens, grid=(3, 3)))['slot_embeds'].sum().backward()
    assert neck.slot_pos.grad.abs().sum() > 0 and neck.token_pos.grad.abs().sum() > 0
    # On the training grid the table is used as it is: token (i, j) gets token_pos[:, i, j].
    pos = neck.token_positions((3, 3), 9)
    assert torch.equal(pos[5], neck.token_pos[:, 1, 2])
    # Another grid: bilinear resize; a constant table stays constant.
    with torch.no_grad():
        neck.token_pos.copy_(torch.arange(16.0)[:, None, None].expand(16, 3, 3))
    assert torch.allclose(neck.token_positions((4, 5), 20), torch.arange(16.0).expand(20, 16))
    with pytest.raises(ValueError, match=r'10 visual tokens do not fill the patch grid \(3, 3\)'):
        neck.token_positions((3, 3), 10)


def test_sinusoidal_positions_stay_the_default_and_unsaved():
    neck = build('xatten')
    assert neck.positions == 'sinusoidal'
    assert not any('pos' in key for key in neck.state_dict())
    with pytest.raises(ValueError, match='positions'):
        build('xatten', positions='rotary')
