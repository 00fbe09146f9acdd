"""clip_loading and CLIPPretrained: CLIP weights named by init_cfg, from each source."""
import warnings

import pytest
import torch
from mmengine.model import initialize

from coseg_mmseg.models import FrozenCLIPBackbone, FrozenCLIPTextEncoder
from coseg_mmseg.models.clip import CLIPPretrained, clip_init_cfg, load_clip_weights
from coseg_mmseg.utils import UserError
from coseg_tools.generators import TINY_BACKBONE


def clip_cfg(checkpoint, **kwargs):
    return dict(type='CLIPPretrained', checkpoint=str(checkpoint), **kwargs)


def test_converted_source_round_trip(tiny_clip_dir, tmp_path):
    state, act = load_clip_weights(source='huggingface', checkpoint=tiny_clip_dir)
    path = tmp_path / 'clip.pth'
    torch.save(dict(state_dict=state, meta=dict(act=act)), path)
    backbone = FrozenCLIPBackbone(**TINY_BACKBONE,
                                  init_cfg=clip_cfg(path, source='converted'))
    backbone.init_weights()
    torch.testing.assert_close(backbone.visual.proj, state['visual.proj'])


def test_clip_weights_load_without_a_warning_and_other_init_types_are_not_clip(tiny_clip_dir):
    backbone = FrozenCLIPBackbone(**TINY_BACKBONE, init_cfg=clip_cfg(tiny_clip_dir))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        backbone.init_weights()
    state, _ = load_clip_weights(source='huggingface', checkpoint=tiny_clip_dir)
    torch.testing.assert_close(backbone.visual.proj, state['visual.proj'], rtol=0, atol=0)
    assert clip_init_cfg(dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')) is None
    assert clip_init_cfg(dict(type='Pretrained_Part', checkpoint='x')) is None
    assert clip_init_cfg(None) is None


def test_mmengine_initialize_loads_the_part_under_prefix(tiny_clip_dir):
    """As an mmengine initializer (registered in WEIGHT_INITIALIZERS), with prefix=."""
    reference = FrozenCLIPBackbone(**TINY_BACKBONE, init_cfg=clip_cfg(tiny_clip_dir))
    reference.init_weights()
    visual = FrozenCLIPBackbone(**TINY_BACKBONE).visual
    initialize(visual, clip_cfg(tiny_clip_dir, prefix='visual.'))
    torch.testing.assert_close(visual.proj, reference.visual.proj, rtol=0, atol=0)


@pytest.mark.parametrize('kwargs, message', [
    (dict(source='timm'), "unknown CLIP weights source 'timm'"),
    (dict(source='open_clip'), 'needs model_name'),
    (dict(checkpoint=''), "needs a 'checkpoint'"),
])
def test_bad_init_cfg_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CLIPPretrained(**{'checkpoint': 'x', **kwargs})


def test_unknown_init_cfg_key_is_named(tiny_clip_dir):
    backbone = FrozenCLIPBackbone(**TINY_BACKBONE, init_cfg=clip_cfg(tiny_clip_dir, sorce='hf'))
    with pytest.raises(ValueError, match=r"unknown keys \['sorce'\]"):
        backbone.init_weights()


def test_wrong_path_names_it(tmp_path):
    missing = str(tmp_path / 'no-such-clip')
    backbone = FrozenCLIPBackbone(**TINY_BACKBONE, init_cfg=clip_cfg(missing, source='converted'))
    with pytest.raises(FileNotFoundError, match='no-such-clip'):
        backbone.init_weights()
    empty = tmp_path / 'empty-dir'
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match='empty-dir.*config.json'):
        load_clip_weights(source='huggingface', checkpoint=str(empty))
    corrupt = tmp_path / 'corrupt.pth'
    corrupt.write_bytes(b'not torch')
    with pytest.raises(ValueError, match="'.*corrupt.pth' cannot be read.*convert_clipseg.py"):
        load_clip_weights(source='converted', checkpoint=str(corrupt))


def test_unknown_source():
    with pytest.raises(ValueError, match="unknown CLIP weights source 'timm'"):
        load_clip_weights(source='timm', checkpoint='x')


def test_weights_of_another_architecture_are_refused(tiny_clip_dir):
    wider = FrozenCLIPBackbone(**{**TINY_BACKBONE, 'embed_dims': 128},
                               init_cfg=clip_cfg(tiny_clip_dir))
    with pytest.raises(ValueError, match=r'shape mismatch.*conv1.weight') as error:
        wider.init_weights()
    assert isinstance(error.value, UserError)  # the tools print it as one line
    deeper = FrozenCLIPTextEncoder(num_layers=3, embed_dims=32, num_heads=2, output_dim=32,
                                   init_cfg=clip_cfg(tiny_clip_dir))
    with pytest.raises(ValueError, match=r'missing \(\d+\): text.transformer.resblocks.2'):
        deeper.init_weights()


def test_an_init_cfg_of_another_type_is_refused_not_left_random(tiny_clip_dir):
    """mmengine's Pretrained reads no CLIP layout: a frozen tower would stay random."""
    backbone = FrozenCLIPBackbone(**TINY_BACKBONE, init_cfg=dict(
        type='Pretrained', source='huggingface', checkpoint=tiny_clip_dir))
    with pytest.raises(ValueError, match=r"names no CLIP weights; write "
                                         r"init_cfg=dict\(type='CLIPPretrained'"):
        backbone.init_weights()
    text = FrozenCLIPTextEncoder(num_layers=2, embed_dims=32, num_heads=2, output_dim=32,
                                 init_cfg=dict(type='Pretrained', checkpoint=tiny_clip_dir))
    with pytest.raises(ValueError, match='names no CLIP weights'):
        text.init_weights()
