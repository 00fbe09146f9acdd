"""tools/benchmark.py's FLOP counter: the floor every time ratio is compared with."""
import importlib.util
import os

import torch
import torch.nn.functional as F

from tests.helpers import REPO


def load_benchmark():
    spec = importlib.util.spec_from_file_location(
        'benchmark', os.path.join(REPO, 'tools', 'benchmark.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_attention_counts_on_cpu():
    """torch's counter alone gives CPU attention 0 FLOPs; ours gives 4 L_q L_k d per head
    forward (QK^T and AV) and 2.5x that backward."""
    flops = load_benchmark().flops
    q, k = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8)
    forward = 2 * 3 * 4 * 5 * 7 * 8
    assert flops(lambda: F.scaled_dot_product_attention(q, k, k)) == forward
    q.requires_grad_(True)
    assert flops(lambda: F.scaled_dot_product_attention(q, k, k).sum().backward()) == 3.5 * forward
    linear = torch.nn.Linear(8, 4)
    assert flops(lambda: linear(q)) == 2 * 2 * 3 * 5 * 8 * 4  # matmuls still counted


def test_recomputed_upsampling_flops_leave_the_modules_count():
    """A training step through patch_deconv counts the modules' FLOPs plus the recomputed
    first transposed convolution; upsample_recomputed_flops is exactly that surplus."""
    from coseg_mmseg.models.decode_heads import FiLMCLIPSegHead
    benchmark = load_benchmark()
    head = FiLMCLIPSegHead(in_channels=16, channels=8, cond_channels=8, ffn_channels=16)
    tokens = torch.randn(6, 3 * 2, 8, requires_grad=True)  # 6 masks on a 3 x 2 grid

    def ours():
        head.upsample(tokens, (3, 2)).sum().backward()

    def modules():
        head.transposed_convolution(tokens.transpose(1, 2).unflatten(2, (3, 2))).sum().backward()

    recomputed = benchmark.upsample_recomputed_flops(head, 6, (3, 2))
    assert recomputed == 2 * (6 * 3 * 2) * 8 * 4 * 4 * 4  # rows x C_in x C_out x k^2, once
    assert benchmark.flops(ours) - recomputed == benchmark.flops(modules)
