import pytest
import torch

from coseg_mmseg.models import FeatureMapAdapter


def adapter(**kwargs) -> FeatureMapAdapter:
    args = dict(in_channels=(8, 16, 32), layer_indices=(0, 1, 2), token_index=2, grid_index=1,
                out_channels=12, token_channels=6)
    return FeatureMapAdapter(**{**args, **kwargs})


def test_cnn_pyramid_on_one_grid():
    maps = (torch.randn(2, 8, 16, 16), torch.randn(2, 16, 8, 8), torch.randn(2, 32, 4, 4))
    out = adapter()(maps)
    assert out['grid'] == (8, 8) and out['layers_cls'] is None
    assert [t.shape for t in out['layers']] == [(2, 64, 12)] * 3
    assert out['visual_tokens'].shape == (2, 64, 6)


def test_vit_maps_with_cls_tokens():
    outs = [[torch.randn(1, 8, 4, 4), torch.randn(1, 8)] for _ in range(3)]
    module = adapter(in_channels=(8, 8, 8))
    out = module(outs)
    for k in range(3):
        torch.testing.assert_close(out['layers_cls'][k], module.layer_projs[k](outs[k][1]))
        tokens = outs[k][0].flatten(2).transpose(1, 2)  # already on the 4 x 4 grid
        torch.testing.assert_close(out['layers'][k], module.layer_projs[k](tokens))


def test_mismatches_name_the_config_key():
    with pytest.raises(ValueError, match=r'in_channels\[1\]=16 but backbone output 1 has shape'):
        adapter()((torch.randn(1, 8, 8, 8), torch.randn(1, 17, 4, 4), torch.randn(1, 32, 2, 2)))
    with pytest.raises(ValueError, match='3 entries but the backbone gives 2 outputs'):
        adapter()((torch.randn(1, 8, 8, 8), torch.randn(1, 16, 4, 4)))
    with pytest.raises(ValueError, match='token_index has 5'):
        adapter(token_index=5)
