import pytest
import torch

from tests.models.segmentors.test_coseg import VOCAB, build_model, sample


def test_training_reads_cached_backbone_features(tmp_path):
    model = build_model(vocabulary=VOCAB, feature_cache=dict(cache_dir=str(tmp_path),
                                                             dtype='float32'))
    model.train()
    seg = torch.zeros(64, 64, dtype=torch.long)
    seg[10:30, 10:30] = 2
    samples = [sample(seg=seg), sample(seg=seg)]
    for i, s in enumerate(samples):
        s.set_metainfo(dict(img_path=f'img{i}.jpg'))
    images = torch.randn(2, 3, 64, 64)
    first = model.loss(images, samples)
    assert len(list(tmp_path.iterdir())) == 2
    calls = []
    model.backbone.register_forward_hook(lambda *args: calls.append(1))
    second = model.loss(images, samples)
    assert calls == []  # read back, not recomputed
    for key in first:
        torch.testing.assert_close(first[key], second[key])
    with pytest.raises(ValueError, match='img0.jpg were computed from a different input'):
        model.loss(images.flip(-1), samples)  # e.g. a random flip in the pipeline
