import pytest
import torch
from torch import nn

from coseg_mmseg.models.utils import patch_deconv as module
from coseg_mmseg.models.utils.patch_deconv import patch_deconv


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
DEVICES = ['cpu', pytest.param('cuda', marks=CUDA)]


def chain(channels, kernels):
    torch.manual_seed(0)
    deconvs = [nn.ConvTranspose2d(c_in, c_out, k, stride=k)
               for c_in, c_out, k in zip(channels, channels[1:], kernels)]
    for d in deconvs:
        for p in d.parameters():
            nn.init.normal_(p)  # biases too: they must land on every pixel of their patch
    return deconvs


def reference(deconvs, tokens, grid):
    x = tokens.transpose(1, 2).unflatten(2, grid)  # (R, C, h, w)
    for i, d in enumerate(deconvs):
        x = d(x) if i == 0 else d(torch.relu(x))
    return x[:, 0]


@pytest.mark.parametrize('channels,kernels', [((6, 1), (4,)), ((6, 5, 1), (2, 3)),
                                              ((6, 4, 3, 1), (2, 1, 2))])
# chunks of one grid row; of 4 rows and a last of 2 (1st and 3rd chains); all 6 at once
@pytest.mark.parametrize('chunk_floats', [1, 130, 2 ** 18])
@pytest.mark.parametrize('device', DEVICES)
def test_values_and_gradients_equal_the_modules(monkeypatch, channels, kernels, chunk_floats,
                                                device):
    monkeypatch.setattr(module, 'CHUNK_FLOATS', chunk_floats)
    monkeypatch.setattr(torch.backends.cudnn, 'allow_tf32', False)  # the modules' reference
    deconvs = [d.to(device) for d in chain(channels, kernels)]
    grid = (3, 2)
    tokens = torch.randn(2, 6, channels[0], device=device, requires_grad=True)  # (R, h * w, C)
    ours, ref = patch_deconv(tokens, grid, deconvs), reference(deconvs, tokens, grid)
    p = torch.tensor(kernels).prod().item()
    assert ours.shape == ref.shape == (2, 3 * p, 2 * p)
    torch.testing.assert_close(ours, ref, atol=1e-4, rtol=1e-5)
    weights = torch.randn_like(ref)
    params = [tokens, *(p for d in deconvs for p in d.parameters())]
    for g_ours, g_ref in zip(torch.autograd.grad((ours * weights).sum(), params),
                             torch.autograd.grad((ref * weights).sum(), params)):
        torch.testing.assert_close(g_ours, g_ref, atol=1e-3, rtol=1e-4)


def test_weights_get_gradients_when_the_tokens_need_none():
    deconvs = chain((4, 3, 1), (2, 2))
    tokens = torch.randn(1, 4, 4)
    patch_deconv(tokens, (2, 2), deconvs).square().sum().backward()
    reference_grads = [p.grad.clone() for d in deconvs for p in d.parameters()]
    for d in deconvs:
        d.zero_grad()
    reference(deconvs, tokens, (2, 2)).square().sum().backward()
    for ours, ref in zip(reference_grads, (p.grad for d in deconvs for p in d.parameters())):
        torch.testing.assert_close(ours, ref, atol=1e-3, rtol=1e-4)


def test_unsupported_deconvolutions_are_refused():
    tokens = torch.randn(1, 4, 4)
    with pytest.raises(ValueError, match=r'kernel = stride.*padding=\(1, 1\)'):
        patch_deconv(tokens, (2, 2), [nn.ConvTranspose2d(4, 1, 2, stride=2, padding=1)])
    with pytest.raises(ValueError, match='kernel = stride.*stride=\\(1, 1\\)'):
        patch_deconv(tokens, (2, 2), [nn.ConvTranspose2d(4, 1, 2)])
    with pytest.raises(ValueError, match='one output channel, got 2'):
        patch_deconv(tokens, (2, 2), [nn.ConvTranspose2d(4, 2, 2, stride=2)])


@pytest.mark.parametrize('device,dtype', [
    ('cpu', torch.bfloat16), pytest.param('cuda', torch.float16, marks=CUDA),
    pytest.param('cuda', torch.bfloat16, marks=CUDA)])
def test_autocast_computes_in_its_dtype_and_back_propagates(device, dtype):
    deconvs = [d.to(device) for d in chain((4, 3, 1), (2, 2))]
    tokens = torch.randn(1, 4, 4, device=device, requires_grad=True)
    with torch.autocast(device, dtype=dtype):
        ours = patch_deconv(tokens, (2, 2), deconvs)
        ref = reference(deconvs, tokens, (2, 2))
    assert ours.dtype == ref.dtype == dtype
    torch.testing.assert_close(ours.float(), ref.float(), atol=0.1, rtol=0.02)
    ours.float().sum().backward()
    assert tokens.grad.dtype == torch.float32 and torch.isfinite(tokens.grad).all()
    assert all(p.grad is not None for d in deconvs for p in d.parameters())
