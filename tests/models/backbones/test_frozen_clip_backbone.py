import pytest
import torch
from transformers import CLIPModel

from coseg_mmseg.models import FrozenCLIPBackbone
from coseg_tools.generators import TINY_BACKBONE, tiny_clip_images


def build(init_cfg=None, **overrides) -> FrozenCLIPBackbone:
    backbone = FrozenCLIPBackbone(**{**TINY_BACKBONE, **overrides}, init_cfg=init_cfg)
    backbone.init_weights()
    return backbone


@pytest.mark.parametrize('size', [64, 96])  # the pretraining size, and interpolated positions
def test_parity_with_transformers(tiny_clip_dir, size):
    backbone = build(dict(type='CLIPPretrained', source='huggingface', checkpoint=tiny_clip_dir))
    hf = CLIPModel.from_pretrained(tiny_clip_dir).eval()
    images = tiny_clip_images(2, size=size)
    out = backbone(images)
    with torch.no_grad():
        ref = hf.vision_model(pixel_values=images, output_hidden_states=True,
                              interpolate_pos_encoding=True)
        ref_embed = hf.visual_projection(ref.pooler_output)
        ref_tokens = hf.visual_projection(hf.vision_model.post_layernorm(ref.last_hidden_state))
    grid = size // 16
    assert out['grid'] == (grid, grid)
    for k, block in enumerate(TINY_BACKBONE['out_indices']):
        # hidden_states[0] is the embedding output: block i's output is hidden_states[i + 1].
        expected = ref.hidden_states[block + 1]
        assert out['layers'][k].shape == (2, grid * grid, TINY_BACKBONE['embed_dims'])
        torch.testing.assert_close(out['layers'][k], expected[:, 1:], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(out['layers_cls'][k], expected[:, 0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out['image_embed'], ref_embed, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out['visual_tokens'], ref_tokens[:, 1:], atol=1e-5, rtol=1e-5)
    # The layers really are different blocks' outputs.
    assert not torch.allclose(out['layers'][0], out['layers'][1])


def test_parity_with_open_clip(tiny_open_clip):
    name, checkpoint, model = tiny_open_clip
    backbone = build(dict(type='CLIPPretrained', source='open_clip', model_name=name,
                          checkpoint=checkpoint))
    images = tiny_clip_images(2)
    captured = {}
    hooks = [model.visual.transformer.resblocks[i].register_forward_hook(
        lambda m, args, out, i=i: captured.__setitem__(i, out)) for i in (1, 2, 3)]
    with torch.no_grad():
        ref_embed = model.encode_image(images)
    for hook in hooks:
        hook.remove()
    out = backbone(images)
    torch.testing.assert_close(out['image_embed'], ref_embed, atol=1e-5, rtol=1e-5)
    for k, block in enumerate((1, 2, 3)):
        ref = captured[block]
        ref = ref if ref.shape[0] == 2 else ref.transpose(0, 1)  # (B, L, C)
        torch.testing.assert_close(out['layers'][k], ref[:, 1:], atol=1e-5, rtol=1e-5)


def test_frozen():
    backbone = build()
    assert not any(p.requires_grad for p in backbone.parameters())
    backbone.train()
    assert not backbone.training and not any(m.training for m in backbone.modules())
    images = tiny_clip_images(1).requires_grad_(True)
    out = backbone(images)
    for tensor in out['layers'] + out['layers_cls'] + [out['visual_tokens'], out['image_embed']]:
        assert tensor.grad_fn is None and not tensor.requires_grad


def test_quick_gelu_mismatch_is_refused(tiny_clip_dir):
    backbone = FrozenCLIPBackbone(**TINY_BACKBONE, act='gelu', init_cfg=dict(
        type='CLIPPretrained', source='huggingface', checkpoint=tiny_clip_dir))
    with pytest.raises(ValueError, match="trained with activation 'quick_gelu'.*act='gelu'"):
        backbone.init_weights()


def test_out_indices_outside_the_model():
    with pytest.raises(ValueError, match=r'out_indices \(3, 6, 9\).*\[6, 9\]'):
        FrozenCLIPBackbone(**{**TINY_BACKBONE, 'out_indices': (3, 6, 9)})


def test_partial_passes_equal_the_full_one():
    """'image_embed' computes the last block's CLS token alone, 'none' stops after the deepest
    out_index: the values they return are the full pass's."""
    backbone = build(num_layers=4, out_indices=(1, 2))
    images = tiny_clip_images(2)
    full = backbone(images)
    pooled = backbone(images, final='image_embed')
    truncated = backbone(images, final='none')
    assert 'visual_tokens' not in pooled and 'visual_tokens' not in truncated
    assert 'image_embed' not in truncated
    torch.testing.assert_close(pooled['image_embed'], full['image_embed'], atol=1e-5, rtol=1e-5)
    for part in (pooled, truncated):
        for ours, ref in zip(part['layers'], full['layers']):
            torch.testing.assert_close(ours, ref, atol=0, rtol=0)
    calls = []
    hooks = [b.register_forward_hook(lambda m, a, out: calls.append(out.shape[1]))
             for b in backbone.visual.transformer.resblocks]
    backbone(images, final='none')
    assert len(calls) == 3  # blocks 0..2; block 3 skipped
    calls.clear()
    backbone(images, final='image_embed')
    assert calls == [17, 17, 17, 1]  # 16 patches + CLS, then the CLS token alone
    for hook in hooks:
        hook.remove()
    with pytest.raises(ValueError, match="final='all'"):
        backbone(images, final='all')

