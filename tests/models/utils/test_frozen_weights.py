"""Checkpoints hold a reference to the frozen CLIP, and loading one rebuilds the full model."""
import io
import os

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.runner.checkpoint import load_state_dict as mmengine_load_state_dict
from mmseg.registry import MODELS
from torch import nn

from coseg_mmseg.apis import init_model
from coseg_mmseg.models.clip.clip_pretrained import load_pretrained
from coseg_mmseg.models.utils.frozen_weights import (REFERENCE_KEY, FrozenReferenceError,
                                                     save_frozen_as_reference)
from coseg_tools.generators import TINY_BACKBONE, TINY_PROJECTION_DIM, TINY_TEXT_ENCODER
from coseg_tools.hostile._crafted import with_reference
from tests.helpers import TINY_CONFIG, save_tiny_checkpoint


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
    with pytest.raises(FrozenReferenceError, match="gone' does not exist"):
        tiny_coseg(tiny_clip_dir).load_state_dict(saved)


# ------------------------------------------- references read from checkpoint files (issue 25.3)
@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """A tiny CoSeg's checkpoint as tools/train.py writes it, saved from its own folder."""
    root = tmp_path_factory.mktemp('refs')
    return save_tiny_checkpoint(str(root), 'model.pth')


def test_a_local_path_is_recorded_absolute_and_loads_from_elsewhere(tiny_checkpoint, tmp_path,
                                                                    monkeypatch):
    """The tiny config names data/tiny/clip relative to the working directory; the checkpoint
    records it absolute, so loading from another folder reads the same CLIP (issue 25.9)."""
    saved = torch.load(tiny_checkpoint, weights_only=True)['state_dict']._metadata
    recorded = saved['backbone'][REFERENCE_KEY]['checkpoint']
    assert recorded == os.path.join(os.path.dirname(tiny_checkpoint), 'data', 'tiny', 'clip')
    monkeypatch.chdir(tmp_path)  # no data/ here
    model = init_model(TINY_CONFIG, tiny_checkpoint)
    reference = load_pretrained(dict(type='CLIPPretrained', checkpoint=recorded))[0]
    torch.testing.assert_close(model.backbone.visual.conv1.weight,
                               reference['visual.conv1.weight'])


@pytest.mark.parametrize('reference, message', [
    (dict(type='Pretrained_Part', checkpoint='data/tiny/clip'),
     "type 'Pretrained_Part' is not one this module loads"),
    ({}, 'it is empty or not a dict'),
    ('openai/clip-vit-base-patch16', 'it is empty or not a dict'),
    (dict(type='CLIPPretrained', source='converted', checkpoint='/etc/passwd'),
     "'/etc/passwd' is no weights file"),
    (dict(type='CLIPPretrained', source='huggingface', checkpoint='/etc'),
     "'/etc' is no HuggingFace checkpoint folder"),
    (dict(type='CLIPPretrained', source='huggingface', checkpoint='../../etc/x'),
     "'../../etc/x' does not exist \\(relative to the working directory"),
    (dict(type='CLIPPretrained', source='huggingface', checkpoint='weights/tiny/clip'),
     "'weights/tiny/clip' does not exist \\(relative to the working directory"),
    (dict(type='CLIPPretrained', source='ftp', checkpoint='x/y'), "unknown source 'ftp'"),
    (dict(type='CLIPPretrained', checkpoint='data/tiny/clip', hook='x'),
     "unknown keys \\['hook'\\]"),
    (dict(type='CLIPPretrained', checkpoint=7), "'checkpoint' must be a non-empty string"),
])
def test_a_crafted_reference_is_refused_in_one_line(tiny_checkpoint, tmp_path, reference,
                                                    message):
    """Each loaded silently before (a random CLIP: Pretrained_Part, {}) or opened what the
    file chose (/etc/passwd), or tried a missing local path as a hub id."""
    path = with_reference(tiny_checkpoint, tmp_path / 'crafted.pth', reference)
    with pytest.raises(FrozenReferenceError, match=message) as error:
        init_model(TINY_CONFIG, str(path))
    assert '\n' not in str(error.value)


class NoOpLoader(nn.Module):
    """A frozen module whose init_weights accepts a reference and loads nothing."""

    def __init__(self, weights: str) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 2).requires_grad_(False)
        self.init_cfg = dict(type='Pretrained', checkpoint=weights)

    def init_weights(self) -> None:
        pass


def test_a_frozen_part_that_loads_nothing_is_an_error(tmp_path):
    weights = tmp_path / 'weights.pth'
    torch.save({}, weights)
    module = NoOpLoader(str(weights))
    save_frozen_as_reference(module)
    saved = module.state_dict()
    assert saved._metadata[''][REFERENCE_KEY]['checkpoint'] == str(weights)
    fresh = NoOpLoader(str(weights))
    save_frozen_as_reference(fresh)
    with pytest.raises(FrozenReferenceError, match='wrote 0 of the module.s 2 tensors'):
        fresh.load_state_dict(saved)
