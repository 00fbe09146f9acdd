"""FrozenCLIPBackbone(weights_dtype=...): the frozen tower held in the autocast dtype."""
import pytest
import torch

from coseg_mmseg.models import FrozenCLIPBackbone
from coseg_tools.generators import TINY_BACKBONE, tiny_clip_images


def build(tiny_clip_dir, **kwargs) -> FrozenCLIPBackbone:
    backbone = FrozenCLIPBackbone(**TINY_BACKBONE, **kwargs, init_cfg=dict(
        type='CLIPPretrained', source='huggingface', checkpoint=tiny_clip_dir))
    backbone.init_weights()
    return backbone


def test_bf16_weights_give_the_autocast_outputs_of_fp32_weights(tiny_clip_dir):
    fp32, bf16 = build(tiny_clip_dir), build(tiny_clip_dir, weights_dtype='bfloat16')
    assert {p.dtype for p in bf16.parameters()} == {torch.bfloat16}  # after loading, too
    for a, b in zip(fp32.parameters(), bf16.parameters()):
        assert torch.equal(a.to(torch.bfloat16), b)  # the loaded weights, rounded
    images = tiny_clip_images(2)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        ref, out = fp32(images), bf16(images)
    for k in ('visual_tokens', 'image_embed'):
        assert out[k].dtype == torch.bfloat16
        # The matmuls see the same bf16 weights; the layer norms' and embeddings' weights (kept
        # float32 under autocast otherwise) are rounded to bf16 (exact for the tiny model's).
        torch.testing.assert_close(out[k].float(), ref[k].float(), atol=1e-2, rtol=1e-2)


def test_outputs_in_the_input_dtype_without_autocast(tiny_clip_dir):
    out = build(tiny_clip_dir, weights_dtype='bfloat16')(tiny_clip_images(2))
    assert {x.dtype for x in out['layers'] + [out['visual_tokens']]} == {torch.float32}


def test_bad_weights_dtype_is_named():
    with pytest.raises(ValueError, match="backbone.weights_dtype must be one of"):
        FrozenCLIPBackbone(**TINY_BACKBONE, weights_dtype='bf16')
