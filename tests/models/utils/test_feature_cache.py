import pytest
import torch

from coseg_mmseg.models.utils.feature_cache import FeatureCache
from coseg_tools.generators import TINY_BACKBONE
from tests.models.segmentors.test_coseg import VOCAB, build_model, sample


def cached_model(folder, **overrides):
    """A tiny CoSeg in training mode whose feature cache lives in ``folder``."""
    model = build_model(vocabulary=VOCAB, feature_cache=dict(cache_dir=str(folder),
                                                             dtype='float32'), **overrides)
    model.feature_cache.bind(model.backbone)
    return model.train()


def batch():
    seg = torch.zeros(64, 64, dtype=torch.long)
    seg[10:30, 10:30] = 2
    samples = [sample(seg=seg), sample(seg=seg)]
    for i, s in enumerate(samples):
        s.set_metainfo(dict(img_path=f'img{i}.jpg'))
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)), samples


def uncached_loss(model, images, samples):
    cache, model.feature_cache = model.feature_cache, None
    try:
        return model.loss(images, samples)
    finally:
        model.feature_cache = cache


def test_training_reads_cached_backbone_features(tmp_path):
    model = cached_model(tmp_path)
    images, samples = batch()
    first = model.loss(images, samples)
    assert len(list(tmp_path.glob('*.pt'))) == 2
    calls = []
    model.backbone.register_forward_hook(lambda *args: calls.append(1))
    second = model.loss(images, samples)
    assert calls == []  # read back, not recomputed
    for key in first:
        torch.testing.assert_close(first[key], second[key])
    with pytest.raises(ValueError, match='img0.jpg in .* were computed from a different input'):
        model.loss(images.flip(-1), samples)  # e.g. a random flip in the pipeline


@pytest.mark.parametrize('change', ['weights of one block', 'out_indices'])
def test_reused_folder_does_not_serve_another_backbones_features(tmp_path, change):
    """The same folder, the same images, another backbone: its own features, not stale ones."""
    images, samples = batch()
    cached_model(tmp_path).loss(images, samples)  # fills the folder
    if change == 'out_indices':
        other = cached_model(tmp_path, backbone=dict(type='FrozenCLIPBackbone', **dict(
            TINY_BACKBONE, out_indices=(0, 1, 3))))
    else:
        other = cached_model(tmp_path)
        with torch.no_grad():
            other.backbone.visual.transformer.resblocks[0].mlp.c_fc.weight.mul_(1.5)
    expected = uncached_loss(other, images, samples)
    got = other.loss(images, samples)
    for key in expected:
        torch.testing.assert_close(got[key], expected[key])
    assert len(list(tmp_path.glob('*.pt'))) == 4  # both backbones' entries, side by side


def test_unbound_cache_refuses(tmp_path):
    cache = FeatureCache(cache_dir=str(tmp_path))
    with pytest.raises(RuntimeError, match=r'bind\(model.backbone\)'):
        cache.get(sample(), torch.zeros(3, 64, 64))


def test_trained_or_changing_backbone_refused(tmp_path):
    images, samples = batch()
    model = cached_model(tmp_path)
    model.backbone.visual.ln_post.weight.requires_grad_(True)
    with pytest.raises(ValueError, match='needs a frozen backbone.*ln_post.weight'):
        model.loss(images, samples)
    model.backbone.visual.ln_post.weight.requires_grad_(False)
    model.loss(images, samples)
    with torch.no_grad():
        model.backbone.visual.ln_post.bias.add_(1.0)
    with pytest.raises(ValueError, match='backbone changed between two batches'):
        model.loss(images, samples)
    model.feature_cache.bind(model.backbone)  # new weights loaded on purpose: a new key
    model.loss(images, samples)
    assert len(list(tmp_path.glob('*.pt'))) == 4


def _plant(folder, change):
    """Rewrite img0's entry as an attacker or a bug would; its file name and key unchanged."""
    model = cached_model(folder)
    _, samples = batch()
    paths = [model.feature_cache._path(model.feature_cache._key(s)) for s in samples]
    if change == 'garbage bytes':
        with open(paths[0], 'wb') as f:
            f.write(b'\x80\x02not a torch file')
        return
    entry = torch.load(paths[0], weights_only=True)
    other = torch.load(paths[1], weights_only=True)
    if change == "another image's features":  # key and checksum of img0, tag kept
        entry['features'] = other['features']
    elif change == 'NaN':
        entry['features']['visual_tokens'][0, 0] = float('nan')
    elif change == 'wrong width':
        entry['features']['visual_tokens'] = torch.cat([entry['features']['visual_tokens']] * 2,
                                                       dim=-1)
    elif change == 'float64':
        entry['features']['image_embed'] = entry['features']['image_embed'].double()
    elif change == 'a list, not a dict':
        entry = [entry['key'], entry['features']]
    elif change == 'features not tensors':
        entry['features'] = {'layers': 'oops'}
    torch.save(entry, paths[0])


@pytest.mark.parametrize('change', ["another image's features", 'NaN', 'wrong width', 'float64',
                                    'garbage bytes', 'a list, not a dict',
                                    'features not tensors'])
def test_bad_entry_is_recomputed_with_a_warning(tmp_path, change):
    images, samples = batch()
    cached_model(tmp_path).loss(images, samples)  # fills the folder
    _plant(tmp_path, change)
    model = cached_model(tmp_path)  # a new run on the same folder
    expected = uncached_loss(model, images, samples)
    with pytest.warns(UserWarning, match='ignoring invalid cached backbone features'):
        got = model.loss(images, samples)
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=0, atol=0)
    calls = []
    model.backbone.register_forward_hook(lambda *args: calls.append(1))
    model.loss(images, samples)
    assert calls == []  # rewritten: served from the cache again
