import pytest
import torch

from coseg_mmseg.models.utils.transformer_layers import QuickGELU, Transformer


@pytest.mark.parametrize('cross_attention', [False, True])
def test_num_queries_gives_the_first_outputs_of_the_full_pass(cross_attention):
    torch.manual_seed(0)
    model = Transformer(32, 3, 4, cross_attention=cross_attention)
    x, memory = torch.randn(2, 9, 32), torch.randn(2, 5, 32) if cross_attention else None
    full = model(x, memory)
    part = model(x, memory, num_queries=3)
    assert part.shape == (2, 3, 32)
    torch.testing.assert_close(part, full[:, :3], atol=1e-5, rtol=1e-5)
    # The later tokens still count: they are the keys and values of the last block.
    x2 = x.clone()
    x2[:, -1] = torch.randn(2, 32)
    assert not torch.allclose(model(x2, memory, num_queries=3), part)


def test_num_queries_is_not_causal():
    block = Transformer(8, 1, 2).resblocks[0]
    with pytest.raises(ValueError, match='num_queries and is_causal'):
        block(torch.randn(1, 4, 8), is_causal=True, num_queries=1)


@pytest.mark.parametrize('grad', [False, True])
def test_quick_gelu_values_and_gradient(grad):
    x = torch.randn(3, 7, requires_grad=grad)
    before = x.detach().clone()
    with torch.set_grad_enabled(grad):
        y = QuickGELU()(x)
    assert torch.equal(y, before * torch.sigmoid(1.702 * before))
    assert torch.equal(x.detach(), before)  # the input is left as it was
    if grad:
        y.sum().backward()
        s = torch.sigmoid(1.702 * before)
        torch.testing.assert_close(x.grad, s + 1.702 * before * s * (1 - s))
