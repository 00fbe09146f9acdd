"""CoSeg on mmseg's own backbones, built from the tiny configs."""
import os

import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from tests.helpers import REPO


def build(name: str):
    cfg = Config.fromfile(os.path.join(REPO, 'configs/tiny', name + '.py'))
    model = MODELS.build(cfg.model)
    model.init_weights()  # mmseg's own init for the backbone; the tiny CLIP for the text
    return model


def test_mmseg_vit_is_frozen_and_cnn_trains(tmp_path, tiny_clip_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs('data/tiny', exist_ok=True)
    os.symlink(tiny_clip_dir, 'data/tiny/clip')
    vit = build('coseg_prefix_tiny-vit-mmseg_cocostuff')
    assert not any(p.requires_grad for p in vit.backbone.parameters())
    r18 = build('coseg_prefix_tiny-r18_cocostuff')
    assert all(p.requires_grad for p in r18.backbone.parameters())
    for model in (vit, r18):
        model.set_vocabulary(['grass', 'sea'], split='test')
        model.eval()
        with torch.no_grad():
            out = model.predict(torch.randn(1, 3, 64, 96))
        assert out[0].seg_logits.data.shape == (2, 64, 96)
