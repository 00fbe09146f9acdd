"""CLIPTokenMaps puts every token back at its patch position."""
import torch

from coseg_mmseg.models.necks import CLIPTokenMaps


def test_tokens_back_on_the_grid():
    b, h, w, c, d = 2, 3, 4, 5, 6
    layers = [torch.randn(b, h * w, c) for _ in range(2)]
    visual = torch.randn(b, h * w, d)
    maps = CLIPTokenMaps()(dict(layers=layers, grid=(h, w), visual_tokens=visual))
    assert [m.shape for m in maps] == [(b, c, h, w)] * 2 + [(b, d, h, w)]
    # token i*w + j (row-major patches) is pixel (i, j) of every map
    for m, t in zip(maps, layers + [visual]):
        for i, j in [(0, 0), (1, 2), (2, 3)]:
            torch.testing.assert_close(m[:, :, i, j], t[:, i * w + j])
    assert len(CLIPTokenMaps()(dict(layers=layers, grid=(h, w)))) == 2
