import math

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
def test_layers_are_read_side_by_side_shallow_first(mode):
    """``in_key='layers'``: the M activations (B, L, C) are one token of M * C channels, the
    first layer's channels first: the same as the paper's neck fed that token by hand."""
    layers = [torch.randn(2, 9, 8) for _ in range(3)]
    side_by_side = torch.zeros(2, 9, 24)
    for m, layer in enumerate(layers):
        side_by_side[..., 8 * m:8 * (m + 1)] = layer
    expected = build(mode)(dict(visual_tokens=side_by_side))['slot_embeds']
    out = build(mode, in_key='layers')(dict(layers=layers, visual_tokens=torch.randn(2, 9, 24)))
    torch.testing.assert_close(out['slot_embeds'], expected, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match=r"neck.in_channels=24 but backbone output 'layers'.*"
                                         r"\(2, 9, 16\)"):
        build(mode, in_key='layers')(dict(layers=layers[:2]))


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


# ------------------------------------------ an independent reference from the module's weights
def reference_attention(attn, x, memory=None):
    """torch's own nn.MultiheadAttention carrying ``attn``'s packed weights."""
    dims = x.shape[-1]
    ref = torch.nn.MultiheadAttention(dims, attn.num_heads, batch_first=True)
    ref.in_proj_weight.data.copy_(attn.in_proj_weight)
    ref.in_proj_bias.data.copy_(attn.in_proj_bias)
    ref.out_proj.load_state_dict(attn.out_proj.state_dict())
    source = x if memory is None else memory
    return ref(x, source, source, need_weights=False)[0]


def reference_block(block, x, memory=None):
    """Pre-norm block, written from its definition: x + attn(ln(x)), [x + xattn(ln(x), m)],
    x + mlp(ln(x)) with an exact GELU."""
    ln = lambda norm, t: torch.nn.functional.layer_norm(  # noqa: E731
        t, norm.normalized_shape, norm.weight, norm.bias, norm.eps)
    x = x + reference_attention(block.attn, ln(block.ln_1, x))
    if memory is not None:
        x = x + reference_attention(block.cross_attn, ln(block.ln_x, x), memory)
    mlp = block.mlp
    hidden = torch.nn.functional.gelu(ln(block.ln_2, x) @ mlp.c_fc.weight.t() + mlp.c_fc.bias)
    return x + hidden @ mlp.c_proj.weight.t() + mlp.c_proj.bias


def reference_neck(neck, tokens):
    """The slot embeddings, computed by hand from the neck's weights (section 3.4)."""
    return reference_neck_from_memory(
        neck, tokens @ neck.input_proj.weight.t() + neck.input_proj.bias)


def reference_neck_from_memory(neck, memory):
    """The same from the projected (and position-encoded) visual tokens (B, L, E)."""
    B, N = memory.shape[0], neck.num_slots
    queries = (neck.slot_queries + neck.slot_pos).expand(B, -1, -1)
    if neck.mode == 'prefix':
        x = torch.cat([queries, memory], dim=1)  # the N slots first, then the L tokens
        for block in neck.blocks.resblocks:
            x = reference_block(block, x)
        x = x[:, :N]
    else:
        for block in neck.encoder.resblocks:
            memory = reference_block(block, memory)
        x = queries
        for block in neck.decoder.resblocks:
            x = reference_block(block, x, memory)
    x = torch.nn.functional.layer_norm(x, x.shape[-1:], neck.ln_out.weight, neck.ln_out.bias,
                                       neck.ln_out.eps)
    return x @ neck.out_proj.weight.t() + neck.out_proj.bias


@pytest.mark.parametrize('mode', ['prefix', 'xatten'])
def test_slot_embeddings_equal_a_reference_built_from_the_weights(mode):
    neck = build(mode).eval()
    with torch.no_grad():
        for p in neck.parameters():  # away from the initial biases of 0 and norms of 1
            p.add_(0.1 * torch.randn_like(p))
        tokens = torch.randn(2, 9, 24)
        got = neck(dict(visual_tokens=tokens))['slot_embeds']
        ref = reference_neck(neck, tokens)
    assert got.shape == ref.shape == (2, 5, 12)
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)
    assert ref.std() > 0.1


@pytest.mark.parametrize('mode', ['prefix', 'xatten'])
def test_slot_n_is_the_output_of_query_n(mode):
    """Swapping two slot queries swaps the two slots' embeddings (positions included), and
    changing a query changes its slot: the outputs are read at the queries, not the tokens."""
    neck = build(mode, positions='learned', token_grid=(3, 3)).eval()
    tokens = torch.randn(1, 9, 24)
    with torch.no_grad():
        before = neck(dict(visual_tokens=tokens))['slot_embeds'][0]
        neck.slot_queries[[0, 3]] = neck.slot_queries[[3, 0]].clone()
        neck.slot_pos[[0, 3]] = neck.slot_pos[[3, 0]].clone()
        after = neck(dict(visual_tokens=tokens))['slot_embeds'][0]
    torch.testing.assert_close(after[[3, 1, 2, 0, 4]], before, atol=1e-5, rtol=1e-5)
    assert (after[0] - before[0]).abs().max() > 1e-2


def test_sinusoidal_positions_hand_computed():
    """enc[p, 2i] = sin(p / 10000^(2i / d)), enc[p, 2i + 1] = cos(p / 10000^(2i / d))."""
    from coseg_mmseg.models.necks.coexistence_neck import sinusoidal_positions
    num, dims = 5, 6
    enc = sinusoidal_positions(num, dims)
    for p in range(num):
        for i in range(dims // 2):
            angle = p / 10000 ** (2 * i / dims)
            assert enc[p, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert enc[p, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_defaults_are_the_papers():
    """Section 3.4 / 3.7: 20 slots, width 512, 4 heads, 8 prefix blocks (4 + 4 in xatten),
    MLP ratio 4, queries drawn with std 0.02; CLIP's width in and out, so no input map."""
    torch.manual_seed(0)
    neck = CoexistenceNeck()
    assert neck.mode == 'prefix' and neck.slot_queries.shape == (20, 512)
    assert neck.in_channels == 512 and not any(k.startswith('input_proj') for k in
                                               neck.state_dict())
    assert len(neck.blocks.resblocks) == 8
    block = neck.blocks.resblocks[0]
    assert block.attn.num_heads == 4 and block.mlp.c_fc.out_features == 2048
    assert isinstance(block.mlp.act, torch.nn.GELU)
    assert neck.out_proj.out_features == 512
    assert neck.slot_queries.std().item() == pytest.approx(0.02, rel=0.05)
    xatten = CoexistenceNeck(mode='xatten')
    assert (len(xatten.encoder.resblocks), len(xatten.decoder.resblocks)) == (4, 4)


def test_mlp_ratio_init_cfg_and_learned_position_scale():
    neck = build('prefix', mlp_ratio=2.0, positions='learned', query_std=0.5,
                 init_cfg=dict(type='Constant', layer='Linear', val=0.25, bias=0.0))
    assert neck.blocks.resblocks[0].mlp.c_fc.out_features == 32
    assert neck.slot_pos.std().item() == pytest.approx(0.5, rel=0.5)
    assert neck.token_pos.std().item() == pytest.approx(0.5, rel=0.2)
    neck.init_weights()
    assert (neck.out_proj.weight == 0.25).all()


def test_one_slot_is_enough_and_none_is_refused():
    one = CoexistenceNeck(num_slots=1, in_channels=24, embed_dims=16, out_channels=12, depth=1)
    assert one(dict(visual_tokens=torch.randn(1, 9, 24)))['slot_embeds'].shape == (1, 1, 12)
    with pytest.raises(ValueError, match=r'^neck\.num_slots must be >= 1, got 0$'):
        CoexistenceNeck(num_slots=0)


def test_learned_token_positions_resize_with_half_pixel_centres():
    """A 1 x 2 table [a, b] on a 1 x 4 grid (align_corners=False): a, 3a/4 + b/4, a/4 + 3b/4,
    b."""
    neck = build('prefix', positions='learned', token_grid=(1, 2))
    with torch.no_grad():
        neck.token_pos.zero_()
        neck.token_pos[:, 0, 0], neck.token_pos[:, 0, 1] = 1.0, 5.0
    pos = neck.token_positions((1, 4), 4)[:, 0]
    assert pos.tolist() == pytest.approx([1.0, 2.0, 4.0, 5.0])


@pytest.mark.parametrize('mode', ['prefix', 'xatten'])
def test_learned_positions_equal_the_reference(mode):
    """With learned positions the visual tokens carry token_pos (laid on the features' grid,
    not the table's): the reference adds them by hand."""
    neck = build(mode, positions='learned', token_grid=(3, 3)).eval()
    with torch.no_grad():
        for p in neck.parameters():
            p.add_(0.1 * torch.randn_like(p))
        tokens = torch.randn(2, 6, 24)
        got = neck(dict(visual_tokens=tokens, grid=(2, 3)))['slot_embeds']
        pos = torch.nn.functional.interpolate(neck.token_pos[None], size=(2, 3), mode='bilinear',
                                              align_corners=False)[0].flatten(1).t()  # (6, E)
        ref = reference_neck_from_memory(neck, tokens @ neck.input_proj.weight.t()
                                         + neck.input_proj.bias + pos)
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)
