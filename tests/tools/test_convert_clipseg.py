"""tools/convert_clipseg.py: HuggingFace and original CLIPSeg layouts -> the plugin's layout."""
import os

import pytest
import torch
from torch import nn

from coseg_mmseg.models import FiLMCLIPSegHead
from coseg_mmseg.models.clip import check_clipseg_decoder, convert_original_clipseg
from tests.helpers import run_tool

pytestmark = pytest.mark.slow  # starts the tools in subprocesses

RD, WIDTH, COND, HEADS, FFN = 16, 64, 32, 2, 64


class OriginalDecoder(nn.Module):
    """The decoder of the CLIPSeg authors' ``CLIPDensePredT`` (refined), with their names."""

    def __init__(self):
        super().__init__()
        self.film_mul = nn.Linear(COND, RD)
        self.film_add = nn.Linear(COND, RD)
        self.reduce = nn.Linear(WIDTH, RD)  # present in their checkpoints, unused
        self.reduces = nn.ModuleList(nn.Linear(WIDTH, RD) for _ in range(3))
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(d_model=RD, nhead=HEADS, dim_feedforward=FFN)
            for _ in range(3))
        self.trans_conv = nn.Sequential(
            nn.Conv2d(RD, RD, 3, padding=1), nn.ReLU(), nn.ConvTranspose2d(RD, RD // 2, 4, 4),
            nn.ReLU(), nn.ConvTranspose2d(RD // 2, 1, 4, 4))

    def forward(self, activations, cond, grid):
        """Their loop: activations (L + 1, B, C) seq-first, deepest first; FiLM at step 0."""
        a = None
        for i, (act, block, reduce) in enumerate(zip(activations[::-1], self.blocks,
                                                     self.reduces)):
            a = reduce(act) if a is None else reduce(act) + a
            if i == 0:
                a = self.film_mul(cond) * a + self.film_add(cond)
            a = block(a)
        a = a[1:].permute(1, 2, 0).reshape(cond.shape[0], RD, *grid)
        return self.trans_conv(a)[:, 0]


def tiny_head(checkpoint: str) -> FiLMCLIPSegHead:
    head = FiLMCLIPSegHead(in_channels=WIDTH, channels=RD, cond_channels=COND, num_heads=HEADS,
                           ffn_channels=FFN, init_cfg=dict(type='CLIPPretrained',
                                                           source='converted',
                                                           checkpoint=checkpoint))
    head.init_weights()
    return head.eval()


def test_original_layout(tmp_path):
    torch.manual_seed(0)
    original = OriginalDecoder().eval()
    src, out = str(tmp_path / 'rd16-uni-refined.pth'), str(tmp_path / 'converted.pth')
    torch.save(original.state_dict(), src)
    result = run_tool('convert_clipseg.py', src, out, cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout
    head = tiny_head(out)
    acts = [torch.randn(2, 1 + 9, WIDTH) for _ in range(3)]  # (B, 1 + L, C), CLS first
    cond = torch.randn(2, COND)
    with torch.no_grad():
        ref = original([a.transpose(0, 1) for a in acts], cond, (3, 3))
        ours = head.decode([a[:, 1:] for a in acts], [a[:, 0] for a in acts], (3, 3),
                           cond[:, None])[:, 0]
    assert ours.shape == ref.shape == (2, 48, 48)
    assert (ours - ref).abs().max() <= 1e-5


def test_huggingface_layout(tmp_path, tiny_clipseg_dir):
    out = str(tmp_path / 'from-hf.pth')
    result = run_tool('convert_clipseg.py', tiny_clipseg_dir, out, cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout
    converted = tiny_head(out)
    direct = FiLMCLIPSegHead(in_channels=WIDTH, channels=RD, cond_channels=COND, num_heads=HEADS,
                             ffn_channels=FFN, init_cfg=dict(type='CLIPPretrained',
                                                             checkpoint=tiny_clipseg_dir))
    direct.init_weights()
    for (name, a), b in zip(converted.state_dict().items(), direct.state_dict().values()):
        assert torch.equal(a, b), name
    saved = torch.load(out, weights_only=True)
    assert {k.split('.')[0] for k in saved['state_dict']} == {'visual', 'text', 'decoder'}
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.tmp')]


def test_missing_and_misshaped_keys_are_named():
    state = convert_original_clipseg(OriginalDecoder().state_dict())
    broken = {k: v for k, v in state.items() if k != 'decoder.film_add.weight'}
    with pytest.raises(ValueError, match="lacks 'decoder.film_add.weight'"):
        check_clipseg_decoder(broken, origin='test')
    state['decoder.reduces.1.weight'] = torch.zeros(RD, WIDTH + 1)
    with pytest.raises(ValueError, match=r"'decoder.reduces.1.weight' has shape \(16, 65\), "
                                         r"expected \(16, 64\)"):
        check_clipseg_decoder(state, origin='test')
    with pytest.raises(ValueError, match=r"unknown keys \['head.weight'\]"):
        convert_original_clipseg({'head.weight': torch.zeros(1)})


def test_cli_names_a_missing_source(tmp_path):
    result = run_tool('convert_clipseg.py', str(tmp_path / 'nope.pth'), 'x.pth',
                      '--layout', 'original', cwd=str(tmp_path))
    assert result.returncode != 0 and 'nope.pth' in result.stdout
