"""clip_conversion: HuggingFace's CLIP state dict -> the plugin's layout."""
import torch
from transformers import CLIPModel

from coseg_mmseg.models import FrozenCLIPBackbone
from coseg_mmseg.models.clip import convert_hf_clip
from coseg_tools.generators import TINY_BACKBONE


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
