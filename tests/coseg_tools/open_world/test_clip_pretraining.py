"""The world's CLIP: CLIP's loss, a short pretraining that learns, and the real loading path."""
import numpy as np
import pytest
import torch

from coseg_tools.open_world import clip_pretraining as cp
from coseg_tools.open_world import world

# A fast run for the tests: 32 px images (4 x 4 patches of 8 px), a short schedule.
FAST = dict(steps=100, batch_size=32, pool_size=400, warmup=10, lr=3e-3, image_size=32)


def test_info_nce_matches_a_hand_computed_value():
    img = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    txt = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 0.0]])
    scale = torch.tensor(np.log(2.0))
    # pairs 0 and 2 name the same class: each is a positive of the other
    loss = cp.symmetric_info_nce(img, txt, scale, [(1, ), (2, ), (1, )])
    s = 2 * np.array([[1, 0, 1], [0, 1, 0], [2 ** -0.5, 2 ** -0.5, 2 ** -0.5]])
    t = np.array([[0.5, 0, 0.5], [0, 1, 0], [0.5, 0, 0.5]])

    def xent(logits, targets):
        logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        return -(targets * logp).sum(1).mean()

    expected = (xent(s, t) + xent(s.T, t.T)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_captions_name_every_class_of_a_scene():
    rng = np.random.default_rng(0)
    for _ in range(20):
        image, caption, key = cp.draw_pair(rng, single_fraction=0.0, unlabeled_fraction=0.0)
        assert image.shape == (128, 128, 3) and len(key) >= 1
        for cls in key:
            assert world.CLASSES[cls] in caption
        assert not any(c in caption for i, c in enumerate(world.CLASSES) if i not in key)
    assert cp.scene_caption(['blue wavy ground', 'red striped disc'], rng).endswith(
        'a red striped disc on blue wavy ground') or 'a red striped disc on blue wavy ground' \
        in cp.scene_caption(['blue wavy ground', 'red striped disc'], rng)


def test_saved_tokenizer_is_the_plugins(tmp_path):
    from open_clip.tokenizer import SimpleTokenizer
    from transformers import CLIPTokenizer
    cp.save_tokenizer(str(tmp_path))
    texts = ['a photo of a red striped disc.', 'cyan checkered ground', 'unlabeled']
    ours = SimpleTokenizer()(texts)
    hf = CLIPTokenizer.from_pretrained(str(tmp_path))(texts, padding='max_length',
                                                      max_length=77)['input_ids']
    assert torch.equal(ours, torch.tensor(hf))


@pytest.fixture(scope='module')
def fast_clip(tmp_path_factory):
    """A CLIP pretrained on the fast budget, saved with its random-text twin."""
    out = tmp_path_factory.mktemp('world-clip')
    record = cp.make_world_clips(str(out / 'clip'), str(out / 'clip_random_text'), seed=0,
                                 **FAST)
    return out, record


def test_pretraining_lowers_the_loss(fast_clip):
    _, record = fast_clip
    stats = record['stats']
    # an untrained CLIP sits near chance for a batch of 32 (log 32); training must fall well below
    assert stats['first_loss'] > 3.0
    assert stats['last_loss'] < 0.6 * stats['first_loss']


def _held_out_accuracy(clip_dir, size=32, per_class=3):
    """Zero-shot accuracy (%) among all names, on single-class images of a new stream."""
    from transformers import CLIPModel
    model = CLIPModel.from_pretrained(clip_dir).eval()
    rng = np.random.default_rng(123)
    ids = [c for c in range(len(world.CLASSES)) for _ in range(per_class)]
    images = np.stack([world.draw_single(rng, c, size=size)[0] for c in ids])
    tokens = cp.tokenize([f'a photo of a {c}.' for c in world.CLASSES])
    with torch.no_grad():
        img = model.get_image_features(pixel_values=cp.to_pixel_values(images))
        txt = model.get_text_features(input_ids=tokens)
    img = getattr(img, 'pooler_output', img)
    txt = getattr(txt, 'pooler_output', txt)
    pred = (torch.nn.functional.normalize(img, dim=-1) @
            torch.nn.functional.normalize(txt, dim=-1).t()).argmax(1)
    return 100.0 * (pred.numpy() == np.asarray(ids)).mean()


def test_pretraining_beats_chance_on_held_out_images(fast_clip):
    out, _ = fast_clip
    chance = 100.0 / len(world.CLASSES)
    trained = _held_out_accuracy(str(out / 'clip'))
    random_text = _held_out_accuracy(str(out / 'clip_random_text'))
    assert trained > 6 * chance
    assert random_text < 5 * chance
    assert trained > random_text + 10


def test_pretraining_is_deterministic():
    again, _, _ = cp.train_world_clip(seed=0, **dict(FAST, steps=5, pool_size=64))
    first, _, _ = cp.train_world_clip(seed=0, **dict(FAST, steps=5, pool_size=64))
    for (name, a), b in zip(first.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), name


def test_random_text_twin_shares_the_image_tower(fast_clip):
    out, _ = fast_clip
    from transformers import CLIPModel
    trained = CLIPModel.from_pretrained(str(out / 'clip')).state_dict()
    twin = CLIPModel.from_pretrained(str(out / 'clip_random_text')).state_dict()
    for key in trained:
        same = torch.equal(trained[key], twin[key])
        if key.startswith('text_'):
            if key.endswith('weight') and trained[key].dim() >= 2:
                assert not same, key
        else:
            assert same, key


def test_the_plugin_loads_it_through_its_real_path(fast_clip):
    """FrozenCLIPBackbone / FrozenCLIPTextEncoder via CLIPPretrained give HF's embeddings."""
    from transformers import CLIPModel

    from coseg_tools.open_world.clip_report import load_world_clip
    out, _ = fast_clip
    clip_dir = str(out / 'clip')
    backbone, text_encoder = load_world_clip(clip_dir)
    hf = CLIPModel.from_pretrained(clip_dir).eval()
    rng = np.random.default_rng(5)
    images = np.stack([world.draw_single(rng, c, size=32)[0] for c in (0, 30)])
    pixels = cp.to_pixel_values(images)
    names = ['red plain ground', 'unlabeled']
    with torch.no_grad():
        ref_img = hf.get_image_features(pixel_values=pixels)
        ref_txt = hf.get_text_features(input_ids=cp.tokenize([f'a photo of a {n}.'
                                                             for n in names]))
    ref_img = getattr(ref_img, 'pooler_output', ref_img)
    ref_txt = getattr(ref_txt, 'pooler_output', ref_txt)
    ours = backbone(pixels)['image_embed']
    torch.testing.assert_close(ours, ref_img, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(text_encoder(names),
                               torch.nn.functional.normalize(ref_txt, dim=-1),
                               atol=1e-4, rtol=1e-4)
