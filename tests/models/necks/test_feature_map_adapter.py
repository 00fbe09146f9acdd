import pytest
import torch

from coseg_mmseg.models import FeatureMapAdapter


def adapter(**kwargs) -> FeatureMapAdapter:
    args = dict(in_channels=(8, 16, 32), layer_indices=(0, 1, 2), token_index=2, grid_index=1,
                out_channels=12, token_channels=6)
    return FeatureMapAdapter(**{**args, **kwargs})


def linear(proj: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    return x @ proj.weight.t() + proj.bias


def test_cnn_pyramid_on_one_grid():
    """Values on the 8 x 8 grid of output 1, computed by hand: output 0 (16 x 16) halved by
    bilinear resizing is the mean of each 2 x 2 block; output 2 (4 x 4) is constant per
    channel, which upsampling keeps; tokens are row-major over the grid."""
    torch.manual_seed(0)
    fine, mid = torch.randn(2, 8, 16, 16), torch.randn(2, 16, 8, 8)
    channel_values = torch.randn(2, 32)
    coarse = channel_values[:, :, None, None].expand(2, 32, 4, 4).contiguous()
    module = adapter()
    with torch.no_grad():
        out = module((fine, mid, coarse))
    assert out['grid'] == (8, 8) and out['layers_cls'] is None
    assert [t.shape for t in out['layers']] == [(2, 64, 12)] * 3
    block_means = fine.unflatten(2, (8, 2)).unflatten(4, (8, 2)).mean(dim=(3, 5))  # (2, 8, 8, 8)
    for i in range(8):
        for j in range(8):
            k = i * 8 + j
            torch.testing.assert_close(out['layers'][0][:, k],
                                       linear(module.layer_projs[0], block_means[:, :, i, j]))
            torch.testing.assert_close(out['layers'][1][:, k],
                                       linear(module.layer_projs[1], mid[:, :, i, j]))
    torch.testing.assert_close(out['layers'][2],
                               linear(module.layer_projs[2], channel_values)[:, None].expand(
                                   2, 64, 12))
    torch.testing.assert_close(out['visual_tokens'],
                               linear(module.token_proj, channel_values)[:, None].expand(2, 64, 6))


def test_vit_maps_with_cls_tokens():
    outs = [[torch.randn(1, 8, 4, 4), torch.randn(1, 8)] for _ in range(3)]
    module = adapter(in_channels=(8, 8, 8))
    out = module(outs)
    for k in range(3):
        proj = module.layer_projs[k]
        torch.testing.assert_close(out['layers_cls'][k], linear(proj, outs[k][1]))
        for i in range(4):  # already on the 4 x 4 grid: token i * 4 + j is pixel (i, j)
            for j in range(4):
                torch.testing.assert_close(out['layers'][k][:, i * 4 + j],
                                           linear(proj, outs[k][0][:, :, i, j]))


def test_mismatches_name_the_config_key():
    with pytest.raises(ValueError, match=r'in_channels\[1\]=16 but backbone output 1 has shape'):
        adapter()((torch.randn(1, 8, 8, 8), torch.randn(1, 17, 4, 4), torch.randn(1, 32, 2, 2)))
    with pytest.raises(ValueError, match='3 entries but the backbone gives 2 outputs'):
        adapter()((torch.randn(1, 8, 8, 8), torch.randn(1, 16, 4, 4)))
    with pytest.raises(ValueError, match='token_index has 5'):
        adapter(token_index=5)


def test_index_bounds_and_the_key_named():
    """Indices from -n to n - 1 are outputs; -n - 1 and n are not, named by their key."""
    for index in (-3, 2):
        adapter(token_index=index, grid_index=index, layer_indices=(index, ))
    for key, kwargs in (('token_index', dict(token_index=3)),
                        ('grid_index', dict(grid_index=-4)),
                        ('layer_indices', dict(layer_indices=(0, 3)))):
        with pytest.raises(ValueError, match=rf'^FeatureMapAdapter\.{key} has -?\d, outside the '
                                             r'3 backbone outputs declared by in_channels='):
            adapter(**kwargs)


def test_default_widths_are_vit_b16s_and_clips():
    """Head input 768 (ViT-B/16's width), neck input 512 (CLIP's joint space)."""
    module = FeatureMapAdapter(in_channels=(8, ), layer_indices=(0, ))
    out = module((torch.randn(1, 8, 2, 2), ))
    assert out['layers'][0].shape == (1, 4, 768) and out['visual_tokens'].shape == (1, 4, 512)


def test_init_cfg_is_applied():
    module = adapter(init_cfg=dict(type='Constant', layer='Linear', val=0.5, bias=0.0))
    module.init_weights()
    assert all((proj.weight == 0.5).all() for proj in module.layer_projs)
    assert (module.token_proj.weight == 0.5).all()
