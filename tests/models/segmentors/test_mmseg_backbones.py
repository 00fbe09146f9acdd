"""CoSeg on mmseg's own backbones, built from the tiny configs."""
import os

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from tests.helpers import REPO, flat


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


# The convergence benchmark's rows on mmseg's own backbones (docs/convergence.md), trained.
MMSEG_ROWS = {
    'r18-mmseg': 'ResNetV1c',
    'vit-mmseg': 'VisionTransformer',
}
CONVERGENCE = 'configs/coseg/convergence/coseg_prefix_set-matching{}_convergence.py'


@pytest.mark.parametrize('row', MMSEG_ROWS)
def test_convergence_row_changes_only_the_image_encoder(row):
    """Beside the frozen-CLIP set-matching row the comparison is fair: the same data,
    schedule, learning rate, text tower, neck and head; only the backbone (and the adapter
    before the neck, and the head's CLS input for the CNN) differ."""
    frozen = Config.fromfile(os.path.join(REPO, CONVERGENCE.format('')))
    mixed = Config.fromfile(os.path.join(REPO, CONVERGENCE.format('_' + row)))
    a, b = flat(mixed.to_dict()), flat(frozen.to_dict())
    changed = {k for k in a.keys() | b.keys() if a.get(k, 'absent') != b.get(k, 'absent')}
    assert {k for k in changed if not k.startswith(('model.backbone.', 'model.neck'))} <= {
        'model.decode_head.use_cls_token'}
    assert mixed.model.backbone.type == MMSEG_ROWS[row]
    adapter, neck = mixed.model.neck
    assert neck == frozen.model.neck  # the neck restated whole: every setting kept
    assert adapter.out_channels == frozen.model.decode_head.in_channels
    assert adapter.token_channels == frozen.model.neck.in_channels


@pytest.mark.parametrize('row', MMSEG_ROWS)
def test_convergence_row_trains_its_backbone(row):
    """Two steps of the benchmark's optimizer move every backbone weight (a frozen or
    disconnected backbone would leave them; two, as ResNet's zero-initialised last norm of
    each residual branch keeps the branch's first gradients at 0), the losses are finite, the
    frozen text tower stays put, and the adapter's grid times the head's patch gives back the
    128 px input (a coarser grid would draw the masks at a fraction of the input and resize
    them)."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    cfg = Config.fromfile(os.path.join(REPO, CONVERGENCE.format('_' + row)))
    cfg.model.text_encoder.init_cfg = None  # random text tower: no files
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    size = cfg.crop_size
    images = torch.rand(2, 3, *size) * 255
    seg = torch.zeros(size, dtype=torch.long)
    seg[32:96, 16:80] = 3
    seg[:, 100:] = 9
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size))
        sample.gt_sem_seg = PixelData(data=seg[None])
        samples.append(sample)
    with torch.no_grad():
        features = model.neck[0](model.backbone(model.data_preprocessor(
            dict(inputs=list(images), data_samples=samples))['inputs']))
    assert tuple(g * cfg.model.decode_head.patch_size for g in features['grid']) == size
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    for _ in range(2):
        losses = model.train_step(dict(inputs=list(images), data_samples=samples), optim)
        assert all(torch.isfinite(v) for v in losses.values()) and losses['loss'] > 0
    params = dict(model.named_parameters())
    moved = {n for n in before if not torch.equal(before[n], params[n])}
    backbone = {n for n in before if n.startswith('backbone.')}
    assert backbone and backbone <= moved
    assert not any(n.startswith('text_encoder.') for n in moved)


def test_region_naming_needs_clips_image_tower():
    """decode_head.region_naming_weight embeds masked images with CLIP's image tower: on an
    mmseg backbone the config is refused at build, naming the backbone and the fix."""
    cfg = Config.fromfile(os.path.join(REPO, 'configs/tiny/coseg_prefix_tiny-r18_cocostuff.py'))
    cfg.model.decode_head.region_naming_weight = 0.5
    with pytest.raises(ValueError, match='FrozenCLIPBackbone, not ResNetV1c; set '
                                         'region_naming_weight=0'):
        MODELS.build(cfg.model)
