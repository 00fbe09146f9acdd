import pytest
import torch
from transformers import CLIPModel

from coseg_mmseg.models import FrozenCLIPBackbone, FrozenCLIPTextEncoder
from coseg_mmseg.models.clip import convert_hf_clip, load_clip_weights
from coseg_mmseg.testing import TINY_BACKBONE


def test_hf_conversion_covers_every_tower_weight(tiny_clip_dir):
    hf_state = CLIPModel.from_pretrained(tiny_clip_dir).state_dict()
    ours = convert_hf_clip(hf_state)
    backbone = FrozenCLIPBackbone(**TINY_BACKBONE)
    assert {f'visual.{k}' for k in backbone.visual.state_dict()} == {
        k for k in ours if k.startswith('visual.')}
    q = hf_state['vision_model.encoder.layers.0.self_attn.q_proj.weight']
    packed = ours['visual.transformer.resblocks.0.attn.in_proj_weight']
    assert torch.equal(packed[:q.shape[0]], q)
    assert torch.equal(ours['text.text_projection'], hf_state['text_projection.weight'].t())


def test_converted_source_round_trip(tiny_clip_dir, tmp_path):
    state, act = load_clip_weights(source='huggingface', checkpoint=tiny_clip_dir)
    path = tmp_path / 'clip.pth'
    torch.save(dict(state_dict=state, meta=dict(act=act)), path)
    backbone = FrozenCLIPBackbone(**TINY_BACKBONE, init_cfg=dict(
        type='Pretrained', source='converted', checkpoint=str(path)))
    backbone.init_weights()
    torch.testing.assert_close(backbone.visual.proj, state['visual.proj'])


def test_wrong_path_names_it(tmp_path):
    missing = str(tmp_path / 'no-such-clip')
    backbone = FrozenCLIPBackbone(**TINY_BACKBONE, init_cfg=dict(
        type='Pretrained', source='converted', checkpoint=missing))
    with pytest.raises(FileNotFoundError, match='no-such-clip'):
        backbone.init_weights()
    empty = tmp_path / 'empty-dir'
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match='empty-dir.*config.json'):
        load_clip_weights(source='huggingface', checkpoint=str(empty))


def test_unknown_source():
    with pytest.raises(ValueError, match="unknown CLIP weights source 'timm'"):
        load_clip_weights(source='timm', checkpoint='x')


def test_weights_of_another_architecture_are_refused(tiny_clip_dir):
    wider = FrozenCLIPBackbone(**{**TINY_BACKBONE, 'embed_dims': 128}, init_cfg=dict(
        type='Pretrained', checkpoint=tiny_clip_dir))
    with pytest.raises(ValueError, match=r'shape mismatch.*conv1.weight'):
        wider.init_weights()
    deeper = FrozenCLIPTextEncoder(num_layers=3, embed_dims=32, num_heads=2, output_dim=32,
                                   init_cfg=dict(type='Pretrained', checkpoint=tiny_clip_dir))
    with pytest.raises(ValueError, match=r'missing \(\d+\): text.transformer.resblocks.2'):
        deeper.init_weights()
