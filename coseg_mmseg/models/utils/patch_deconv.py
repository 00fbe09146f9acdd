"""Transposed convolutions whose kernel equals their stride, run token by token.

A ``ConvTranspose2d`` with kernel = stride = k writes a separate k x k patch for every input
pixel: a matrix product per pixel, (C_in) -> (k * k * C_out). A chain of them with ReLUs in
between (CLIPSeg's upsampling) therefore maps each decoder token to its own p x p block of
the output, p the product of the kernels. :func:`patch_deconv` runs the chain in chunks of
patch-grid rows and writes each chunk's blocks straight into the output image, so the
intermediate maps (for CoSeg's training batch, 8 images x 20 masks x 224^2 pixels x 64
channels: 128 MB) are never laid out whole on CPU: they stay in cache. The backward
recomputes them chunk by chunk instead of storing them.
"""
import math
from typing import List, Sequence, Tuple

import torch
from torch import Tensor, nn

# Floats of the widest intermediate of one chunk (2 MiB): cache-sized, yet few enough chunks
# that the per-chunk overhead stays small (a sweep on a 2-core CPU: 2^17 to 2^20 alike for
# the training step, 2^15 twice as slow for the upsampling alone).
CHUNK_FLOATS = 2 ** 19


def _matrices(deconvs: Sequence[nn.ConvTranspose2d]) -> List[Tensor]:
    """Each deconvolution as ``(weight (C_in, k*k*C_out), bias (k*k*C_out,))``, flattened.

    Column order is (a, b, c): patch row, patch column, output channel (channel fastest), so
    the product's rows, viewed as (rows * k * k, C_out), list the patch pixels row-major.
    """
    out = []
    for deconv in deconvs:
        k = deconv.kernel_size[0]
        if (deconv.kernel_size, deconv.stride) != ((k, k), (k, k)) or any(deconv.padding) or \
                any(deconv.output_padding) or deconv.dilation != (1, 1) or deconv.groups != 1:
            raise ValueError(f'patch_deconv needs square kernel = stride transposed '
                             f'convolutions without padding, dilation or groups; got {deconv}')
        c_in, c_out = deconv.in_channels, deconv.out_channels
        bias = deconv.bias if deconv.bias is not None else deconv.weight.new_zeros(c_out)
        out += [deconv.weight.permute(0, 2, 3, 1).reshape(c_in, -1), bias.repeat(k * k)]
    return out


def _block_order(num_kernels: int) -> Tuple[int, ...]:
    """Permutation of (n, w, a1, b1, a2, b2, ...) to (n, a1, a2, ..., w, b1, b2, ...)."""
    return (0, *range(2, 2 + 2 * num_kernels, 2), 1, *range(3, 3 + 2 * num_kernels, 2))


class _PatchDeconv(torch.autograd.Function):
    """The chain over grid rows ``x`` (G, w, C_0) -> image rows (G, p, w * p)."""

    @staticmethod
    def forward(ctx, x: Tensor, kernels: Tuple[int, ...], chunk: int, *params: Tensor) -> Tensor:
        G, w = x.shape[:2]
        p = math.prod(kernels)
        out = x.new_empty(G, p, w * p)
        for s in range(0, G, chunk):
            n = min(chunk, G - s)
            y = _PatchDeconv.chain(x[s:s + n].reshape(n * w, -1), kernels, params,
                                    len(kernels))[-1]
            # rows (n, w, a1, b1, ...), one column (C_out = 1) -> (n, p, w * p)
            y = y.view(n, w, *[k for k in kernels for _ in 'ab'])
            out[s:s + n] = y.permute(_block_order(len(kernels))).reshape(n, p, w * p)
        ctx.save_for_backward(x, *params)
        ctx.kernels, ctx.chunk = kernels, chunk
        return out

    @staticmethod
    def chain(x: Tensor, kernels: Tuple[int, ...], params: Sequence[Tensor],
              stages: int) -> List[Tensor]:
        """The first ``stages`` stages: [x, relu(h_1), ...], the last entry h_m (no ReLU)
        when all m stages run.

        Stage i's product (rows, k*k*C_out) is viewed as (rows*k*k, C_out): a row per pixel.
        """
        acts = [x]
        for i, k in enumerate(kernels[:stages]):
            h = torch.addmm(params[2 * i + 1], acts[-1], params[2 * i])
            if i < len(kernels) - 1:
                h.relu_()
            acts.append(h.view(-1, h.shape[1] // (k * k)))
        return acts

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, *params = ctx.saved_tensors
        kernels, chunk = ctx.kernels, ctx.chunk
        G, w = x.shape[:2]
        grads = [torch.zeros_like(t) for t in params]
        grad_x = torch.empty_like(x) if ctx.needs_input_grad[0] else None
        inverse = tuple(sorted(range(2 + 2 * len(kernels)),
                               key=_block_order(len(kernels)).__getitem__))
        for s in range(0, G, chunk):
            n = min(chunk, G - s)
            # the inputs of every stage, recomputed (the last stage's product is not needed)
            acts = _PatchDeconv.chain(x[s:s + n].reshape(n * w, -1), kernels, params,
                                      len(kernels) - 1)
            # (n, p, w * p) -> rows (n, w, a1, b1, ...) of the last stage, columns (a_m, b_m)
            g = grad[s:s + n].reshape(n, *kernels, w, *kernels).permute(inverse)
            g = g.reshape(acts[-1].shape[0], -1)  # (rows of the last stage, k_m * k_m)
            for i in reversed(range(len(kernels))):
                grads[2 * i] += acts[i].t() @ g  # not addmm_: FLOP counters see mm
                grads[2 * i + 1] += g.sum(0)
                if i == 0 and grad_x is None:
                    break
                g = g @ params[2 * i].t()  # (rows_i, C_in of stage i)
                if i > 0:  # through the ReLU, whose output is this stage's input
                    g = g.mul_(acts[i] > 0).view(acts[i - 1].shape[0], -1)
                else:
                    grad_x[s:s + n] = g.view(n, w, -1)
        return (grad_x, None, None, *grads)


def patch_deconv(tokens: Tensor, grid: Tuple[int, int],
                 deconvs: Sequence[nn.ConvTranspose2d]) -> Tensor:
    """Run kernel = stride transposed convolutions (ReLU between them) over token grids.

    The same values as ``deconvs[-1](relu(... relu(deconvs[0](image))))`` on the tokens laid
    out as (R, C, h, w) images, and, through autograd, the same gradients.

    Args:
        tokens: (R, h * w, C) tokens, row-major over the (h, w) patch grid.
        grid: (h, w).
        deconvs: ``ConvTranspose2d`` modules with kernel = stride, no padding, the last with
            one output channel.

    Returns:
        (R, h * p, w * p) outputs, p the product of the kernel sizes.
    """
    R, (h, w) = tokens.shape[0], grid
    if deconvs[-1].out_channels != 1:
        raise ValueError(f'patch_deconv: the last deconvolution must have one output channel, '
                         f'got {deconvs[-1].out_channels}')
    kernels = tuple(d.kernel_size[0] for d in deconvs)
    # Under autocast, compute in its dtype, as the modules would; the backward (which runs
    # outside autocast) then sees one dtype throughout.
    device = tokens.device.type
    dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) \
        else tokens.dtype
    params = [p.to(dtype) for p in _matrices(deconvs)]
    # floats per token of each stage's product: pixels so far x its k*k*C_out columns
    widest = max(math.prod(k * k for k in kernels[:i]) * params[2 * i + 1].shape[0]
                 for i in range(len(kernels)))
    # Cache-sized chunks on CPU; a GPU's bandwidth makes them pointless there, and each chunk
    # would cost its own kernel launches: one chunk (the backward still recomputes).
    chunk = max(1, CHUNK_FLOATS // (w * widest)) if device == 'cpu' else R * h
    x = tokens.reshape(R * h, w, -1).to(dtype)  # (grid rows, w, C)
    out = _PatchDeconv.apply(x, kernels, chunk, *params)  # (R * h, p, w * p)
    return out.view(R, -1, out.shape[-1])
