"""Checkpoints hold a reference to the frozen CLIP, and loading one rebuilds the full model."""
import io

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.runner.checkpoint import load_state_dict as mmengine_load_state_dict
from mmseg.registry import MODELS

from coseg_tools.generators import TINY_BACKBONE, TINY_PROJECTION_DIM, TINY_TEXT_ENCODER


def tiny_coseg(clip_dir, **overrides):
    init = dict(type='CLIPPretrained', checkpoint=clip_dir)
    cfg = dict(
        type='CoSeg',
        backbone=dict(type='FrozenCLIPBackbone', **TINY_BACKBONE, init_cfg=init),
        text_encoder=dict(type='FrozenCLIPTextEncoder', **TINY_TEXT_ENCODER, init_cfg=init),
        neck=dict(type='CoexistenceNeck', num_slots=3, in_channels=TINY_PROJECTION_DIM,
                  embed_dims=16, out_channels=TINY_PROJECTION_DIM, depth=1),
        decode_head=dict(type='FiLMCLIPSegHead', in_channels=TINY_BACKBONE['embed_dims'],
                         channels=8, cond_channels=TINY_PROJECTION_DIM, ffn_channels=16),
        test_cfg=ConfigDict(mode='whole'))
    cfg.update(overrides)
    return MODELS.build(cfg)


def round_trip(state_dict):
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_state_dict_keeps_a_reference_not_a_copy(tiny_clip_dir):
    model = tiny_coseg(tiny_clip_dir)
    model.init_weights()
    saved = round_trip(model.state_dict())
    assert not [k for k in saved if k.startswith(('backbone.', 'text_encoder.'))]
    assert any(k.startswith('neck.') for k in saved) and any(
        k.startswith('decode_head.') for k in saved)
    assert saved._metadata['backbone']['coseg_frozen_weights']['checkpoint'] == tiny_clip_dir

    for load in (lambda m, sd: m.load_state_dict(sd, strict=True),
                 lambda m, sd: mmengine_load_state_dict(m, sd, strict=True)):
        fresh = tiny_coseg(tiny_clip_dir)  # random weights everywhere
        load(fresh, saved)
        for (name, a), b in zip(model.state_dict(keep_vars=False).items(),
                                fresh.state_dict().values()):
            assert torch.equal(a, b), name
        for a, b in zip(model.backbone.parameters(), fresh.backbone.parameters()):
            assert torch.equal(a, b)
        for a, b in zip(model.text_encoder.parameters(), fresh.text_encoder.parameters()):
            assert torch.equal(a, b)
    assert sum(v.numel() for v in saved.values()) < sum(
        p.numel() for p in model.parameters()) / 2


def test_copy_on_request(tiny_clip_dir):
    model = tiny_coseg(tiny_clip_dir, save_frozen_weights=True)
    assert any(k.startswith('backbone.') for k in model.state_dict())


def test_random_frozen_weights_are_saved(tiny_clip_dir):
    """Without a pretrained reference there is nothing to point to: the tensors are kept."""
    model = tiny_coseg(tiny_clip_dir, backbone=dict(type='FrozenCLIPBackbone', **TINY_BACKBONE))
    keys = model.state_dict().keys()
    assert any(k.startswith('backbone.') for k in keys)
    assert not any(k.startswith('text_encoder.') for k in keys)


def test_missing_reference_is_named(tiny_clip_dir, tmp_path):
    model = tiny_coseg(tiny_clip_dir)
    saved = model.state_dict()
    saved._metadata['backbone']['coseg_frozen_weights']['checkpoint'] = str(tmp_path / 'gone')
    with pytest.raises(FileNotFoundError, match='gone'):
        tiny_coseg(tiny_clip_dir).load_state_dict(saved)
