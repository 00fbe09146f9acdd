"""Every file under configs/ loads with mmengine's Config; every model builds through mmseg."""
import glob
import os

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from coseg_mmseg.testing import TINY_BACKBONE, TINY_PROJECTION_DIM, TINY_TEXT_ENCODER
from tests.helpers import REPO

CONFIGS = sorted(glob.glob(os.path.join(REPO, 'configs', '**', '*.py'), recursive=True))
TINY = {
    **{f'model.backbone.{k}': v for k, v in TINY_BACKBONE.items()},
    **{f'model.rank_backbone.{k}': v for k, v in TINY_BACKBONE.items() if k != 'out_indices'},
    **{f'model.text_encoder.{k}': v for k, v in TINY_TEXT_ENCODER.items()},
    **{f'model.cond_text_encoder.{k}': v for k, v in TINY_TEXT_ENCODER.items()},
    'model.neck.num_slots': 3, 'model.neck.in_channels': TINY_PROJECTION_DIM,
    'model.neck.embed_dims': 16, 'model.neck.out_channels': TINY_PROJECTION_DIM,
    'model.neck.depth': 1, 'model.neck.encoder_depth': 1, 'model.neck.decoder_depth': 1,
    'model.decode_head.in_channels': TINY_BACKBONE['embed_dims'],
    'model.decode_head.channels': 8, 'model.decode_head.cond_channels': TINY_PROJECTION_DIM,
    'model.decode_head.ffn_channels': 16,
}
# Random weights: nothing is downloaded (a model whose frozen pretrained parts were never
# loaded would load them from init_cfg before its first inference).
RANDOM = {f'model.{part}.init_cfg': None for part in (
    'backbone', 'rank_backbone', 'text_encoder', 'cond_text_encoder', 'decode_head')}


def test_configs_are_found():
    names = {os.path.relpath(c, REPO) for c in CONFIGS}
    assert {'configs/coseg/coseg_prefix_cocostuff.py',
            'configs/tiny/coseg_prefix_tiny_cocostuff.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: os.path.relpath(p, REPO))
def test_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    if 'type' not in cfg.get('model', {}):
        return  # schedule / runtime / preprocessor pieces: loading is the test
    assert 'coseg_mmseg' in cfg.custom_imports['imports']
    if cfg.model.backbone.type == 'FrozenCLIPBackbone':  # CLIP sizes: shrink them all
        cfg.merge_from_dict({k: v for k, v in TINY.items() if cfg.model.get(k.split('.')[1])})
    cfg.merge_from_dict({k: v for k, v in RANDOM.items() if cfg.model.get(k.split('.')[1])})
    model = MODELS.build(cfg.model)
    model.set_vocabulary(['grass', 'sea'], split='test')
    model.eval()
    with torch.no_grad():
        out = model.predict(torch.randn(1, 3, 64, 64))
    assert out[0].seg_logits.data.shape == (2, 64, 64)


def test_main_config_at_real_size_runs_a_forward():
    """The real ViT-B/16 config is consistent (random weights; nothing is downloaded)."""
    cfg = Config.fromfile(os.path.join(REPO, 'configs/coseg/coseg_prefix_cocostuff.py'))
    cfg.merge_from_dict({k: v for k, v in RANDOM.items() if cfg.model.get(k.split('.')[1])})
    model = MODELS.build(cfg.model)
    assert model.neck.num_slots == 20 and len(model.neck.blocks.resblocks) == 8
    assert model.decode_head.channels == 128
    model.set_vocabulary(['sky', 'sea', 'sand', 'person'], split='test')
    model.eval()
    with torch.no_grad():
        out = model.predict(torch.randn(1, 3, 224, 224))
    assert out[0].seg_logits.data.shape == (4, 224, 224)
