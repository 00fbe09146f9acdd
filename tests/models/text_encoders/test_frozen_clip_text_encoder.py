import pytest
import torch
import torch.nn.functional as F
from open_clip.tokenizer import SimpleTokenizer
from transformers import CLIPModel

from coseg_mmseg.models import FrozenCLIPTextEncoder
from coseg_tools.generators import TINY_TEXT_ENCODER

NAMES = ['potted plant', 'sky', 'dining table']


def build(init_cfg=None, **overrides) -> FrozenCLIPTextEncoder:
    encoder = FrozenCLIPTextEncoder(**{**TINY_TEXT_ENCODER, **overrides}, init_cfg=init_cfg)
    encoder.init_weights()
    return encoder


def test_parity_with_transformers(tiny_clip_dir):
    encoder = build(dict(type='CLIPPretrained', checkpoint=tiny_clip_dir), templates=('{}', ))
    hf = CLIPModel.from_pretrained(tiny_clip_dir).eval()
    with torch.no_grad():
        ref = hf.get_text_features(input_ids=SimpleTokenizer()(NAMES))
    ref = getattr(ref, 'pooler_output', ref)  # transformers 5 returns an output object
    torch.testing.assert_close(encoder(NAMES), F.normalize(ref, dim=-1), atol=1e-5, rtol=1e-5)


def test_parity_with_open_clip(tiny_open_clip):
    name, checkpoint, model = tiny_open_clip
    encoder = build(dict(type='CLIPPretrained', source='open_clip', model_name=name,
                         checkpoint=checkpoint), templates=('a photo of a {}.', ))
    with torch.no_grad():
        ref = model.encode_text(SimpleTokenizer()([f'a photo of a {n}.' for n in NAMES]))
    torch.testing.assert_close(encoder(NAMES), F.normalize(ref, dim=-1), atol=1e-5, rtol=1e-5)


def test_template_ensemble_and_cache(tiny_clip_dir):
    init = dict(type='CLIPPretrained', checkpoint=tiny_clip_dir)
    templates = ('a photo of a {}.', 'a picture of the {}.')
    encoder = build(init, templates=templates)
    single = [build(init, templates=(t, ))(NAMES) for t in templates]
    expected = F.normalize(single[0] + single[1], dim=-1)
    first = encoder(NAMES)
    torch.testing.assert_close(first, expected, atol=1e-6, rtol=1e-6)
    assert torch.allclose(first.norm(dim=-1), torch.ones(3))
    calls = []
    encoder.text.register_forward_hook(lambda *args: calls.append(1))
    assert encoder(NAMES) is first or torch.equal(encoder(NAMES), first)
    assert calls == []  # served from the cache
    encoder(NAMES[:2])
    assert calls == [1]  # a new vocabulary is encoded once


def test_cache_is_cleared_when_weights_change(tiny_clip_dir):
    encoder = build(templates=('{}', ))
    before = encoder(NAMES)
    clip = dict(type='CLIPPretrained', checkpoint=tiny_clip_dir)
    encoder.load_state_dict(build(clip).state_dict())
    assert not torch.allclose(encoder(NAMES), before)


@pytest.mark.parametrize('names, message', [
    ([], 'is empty'),
    (['sky', 'sea', 'sky'], "'sky' twice"),
    (['sky', ''], r"\[1\] = ''"),
    ('sky,sea', 'must be a list'),
])
def test_bad_vocabularies(names, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()(names)


def test_bad_templates():
    with pytest.raises(ValueError, match='one "{}" each'):
        build(templates=('a photo of a dog',))


def test_frozen():
    encoder = build()
    assert not any(p.requires_grad for p in encoder.parameters())
    encoder.train()
    assert not encoder.training
    assert encoder(NAMES).grad_fn is None


def test_disk_cache_across_instances_and_corruption(tiny_clip_dir, tmp_path):
    init = dict(type='CLIPPretrained', checkpoint=tiny_clip_dir)
    first = build(init, disk_cache=True, cache_dir=str(tmp_path))
    expected = first(NAMES)
    files = list((tmp_path / 'text_embeddings').glob('*.pt'))
    assert len(files) == 1

    second = build(init, disk_cache=True, cache_dir=str(tmp_path))
    calls = []
    second.text.register_forward_hook(lambda *args: calls.append(1))
    torch.testing.assert_close(second(NAMES), expected)
    assert calls == []  # read from disk, not encoded again

    files[0].write_bytes(b'truncated')
    third = build(init, disk_cache=True, cache_dir=str(tmp_path))
    with pytest.warns(UserWarning, match='ignoring invalid text-embedding cache.*unreadable'):
        torch.testing.assert_close(third(NAMES), expected)
    assert torch.load(files[0], weights_only=True)['embeds'].shape == expected.shape  # rewritten

    other_weights = build(disk_cache=True, cache_dir=str(tmp_path))  # random weights: another fingerprint
    assert not torch.allclose(other_weights(NAMES), expected)
    assert len(list((tmp_path / 'text_embeddings').glob('*.pt'))) == 2


def test_disk_cache_concurrent_writers(tmp_path):
    """Writers racing on one key never leave a partial file for a reader."""
    import threading
    encoder = build(disk_cache=True, cache_dir=str(tmp_path))
    key = encoder.cache_key(NAMES, encoder.templates, True)
    embeds = torch.randn(3, 32)
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            encoder._write_disk(key, embeds)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        encoder._write_disk(key, embeds)
        for _ in range(50):
            assert torch.equal(encoder._read_disk(key), embeds)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert [p.name for p in (tmp_path / 'text_embeddings').iterdir() if p.suffix != '.pt'] == [
        '.integrity_key']  # no temporary left


def test_embeddings_stay_float32_under_autocast():
    """Cached once, reused everywhere: an AMP training step must not cache bfloat16 ones."""
    encoder = build(disk_cache=False)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        inside = encoder(NAMES)
    assert inside.dtype == torch.float32
    assert encoder(NAMES).dtype == torch.float32


def _same_weights(encoder: FrozenCLIPTextEncoder, **overrides) -> FrozenCLIPTextEncoder:
    """Another encoder (other settings) carrying ``encoder``'s weights."""
    other = build(**overrides)
    other.load_state_dict(encoder.state_dict())
    return other


def _fresh(encoder: FrozenCLIPTextEncoder):
    """The embeddings ``encoder`` computes itself, without any cache."""
    encoder.disk_cache = False
    try:
        return encoder(NAMES)
    finally:
        encoder.disk_cache = True
        encoder._forget()


@pytest.mark.parametrize('change', ['one transformer block', 'activation', 'attention heads'])
def test_disk_cache_tells_encoders_apart(tmp_path, change):
    """Encoders that compute different embeddings never share a disk entry (the two
    collisions an outside review found: a block's weights, the activation)."""
    torch.manual_seed(0)
    first = build(disk_cache=True, cache_dir=str(tmp_path))
    if change == 'one transformer block':
        second = _same_weights(first, disk_cache=True, cache_dir=str(tmp_path))
        with torch.no_grad():
            second.text.transformer.resblocks[1].mlp.c_fc.weight.mul_(1.5)
    elif change == 'activation':
        second = _same_weights(first, disk_cache=True, cache_dir=str(tmp_path), act='gelu')
    else:
        second = _same_weights(first, disk_cache=True, cache_dir=str(tmp_path), num_heads=1)
    cached_first = first(NAMES)
    expected_second = _fresh(second)
    assert not torch.allclose(expected_second, cached_first, atol=1e-3)  # they do differ
    torch.testing.assert_close(second(NAMES), expected_second)
    assert len(list((tmp_path / 'text_embeddings').glob('*.pt'))) == 2


def test_disk_cache_key_holds_dtype_and_normalisation(tmp_path):
    encoder = build(disk_cache=True, cache_dir=str(tmp_path))
    normalised, raw = encoder(NAMES), encoder.encode(NAMES, normalize=False)
    assert not torch.allclose(normalised, raw)
    half = _same_weights(encoder, disk_cache=True, cache_dir=str(tmp_path)).to(torch.bfloat16)
    assert half(NAMES).dtype == torch.bfloat16
    assert len(list((tmp_path / 'text_embeddings').glob('*.pt'))) == 3


def test_weights_are_hashed_once_per_load(tmp_path, monkeypatch):
    """Hashing every weight is done once after the weights load, not per call."""
    from coseg_mmseg.models.utils import fingerprint
    hashed = []
    original = fingerprint.hash_tensors

    def counting(tensors):
        hashed.append(len(tensors))
        return original(tensors)

    monkeypatch.setattr(fingerprint, 'hash_tensors', counting)
    encoder = build(disk_cache=True, cache_dir=str(tmp_path))
    encoder(NAMES)
    encoder(NAMES[:2])
    encoder.encode(NAMES, normalize=False)
    assert hashed == [len(encoder.text.state_dict())]  # every tensor, once
    encoder.load_state_dict(build().state_dict())
    encoder(NAMES)
    assert len(hashed) == 2  # new weights: hashed again, once


def test_the_cache_is_in_memory_unless_the_disk_is_asked_for(tiny_clip_dir, tmp_path,
                                                             monkeypatch):
    monkeypatch.setenv('COSEG_CACHE_DIR', str(tmp_path))
    encoder = build(dict(type='CLIPPretrained', checkpoint=tiny_clip_dir))
    assert encoder.disk_cache is False
    first = encoder(NAMES)
    calls = []
    encoder.text.register_forward_hook(lambda *args: calls.append(1))
    assert torch.equal(encoder(NAMES), first)
    assert calls == []  # the second call is served from memory
    assert list(tmp_path.iterdir()) == []  # and nothing was written


def _plant(path, change):
    """Rewrite a valid disk entry as an attacker or a bug would: same file, same key."""
    entry = torch.load(path, weights_only=True)
    embeds = entry['embeds']
    if change == 'two classes swapped':  # the old tag kept: it no longer matches
        entry['embeds'] = embeds[[1, 0, 2]].clone()
    elif change == 'swapped, tag recomputed without the secret':
        import hashlib
        entry['embeds'] = embeds[[1, 0, 2]].clone()
        entry['tag'] = hashlib.sha256(entry['embeds'].numpy().tobytes()).hexdigest()
    elif change == 'NaN':
        entry['embeds'] = embeds.clone()
        entry['embeds'][1, 0] = float('nan')
    elif change == 'wrong width':
        entry['embeds'] = torch.cat([embeds, embeds], dim=1)
    elif change == 'bfloat16':
        entry['embeds'] = embeds.to(torch.bfloat16)
    elif change == 'no tag':
        entry.pop('tag')
    elif change == 'a list, not a dict':
        entry = [entry['key'], embeds]
    torch.save(entry, path)


@pytest.mark.parametrize('change', ['two classes swapped',
                                    'swapped, tag recomputed without the secret', 'NaN',
                                    'wrong width', 'bfloat16', 'no tag', 'a list, not a dict'])
def test_planted_or_bad_disk_entry_is_recomputed(tmp_path, change):
    """A disk entry with the right key but other content is not served: recomputed with a
    warning, the right embeddings returned, the file rewritten valid."""
    first = build(disk_cache=True, cache_dir=str(tmp_path))
    expected = first(NAMES)
    [path] = (tmp_path / 'text_embeddings').glob('*.pt')
    _plant(path, change)
    reader = _same_weights(first, disk_cache=True, cache_dir=str(tmp_path))
    with pytest.warns(UserWarning, match=f'ignoring invalid text-embedding cache {path}: '):
        got = reader(NAMES)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    again = _same_weights(first, disk_cache=True, cache_dir=str(tmp_path))
    calls = []
    again.text.register_forward_hook(lambda *args: calls.append(1))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        torch.testing.assert_close(again(NAMES), expected, rtol=0, atol=0)
    assert calls == []  # the rewritten entry is served
