"""Natural-prompt vocabularies line up with the datasets' label ids."""
import pytest
from mmseg.datasets import COCOStuffDataset, PascalContextDataset59, PascalVOCDataset

from coseg_mmseg.datasets import VOCABULARIES, parse_vocabulary


def squash(name: str) -> str:
    return name.replace(' ', '').replace('-', '')


@pytest.mark.parametrize('name, dataset, skip', [
    ('voc20', PascalVOCDataset, 1), ('pascal_context_59', PascalContextDataset59, 0),
    ('coco_object', COCOStuffDataset, 0)])
def test_same_order_as_mmseg(name, dataset, skip):
    ours = VOCABULARIES[name]
    theirs = dataset.METAINFO['classes'][skip:skip + len(ours)]
    assert [squash(n) for n in ours] == [squash(n) for n in theirs]


def test_natural_prompts():
    assert 'potted plant' in VOCABULARIES['voc20'] and 'tv monitor' in VOCABULARIES['voc20']
    stuff = VOCABULARIES['coco_stuff']
    assert len(stuff) == 171 and stuff[159] == 'brick wall' and stuff[145] == 'sky'
    assert len(VOCABULARIES['pascal_context_459']) == 459
    assert all(len(set(v)) == len(v) for v in VOCABULARIES.values())


def test_parse_vocabulary(tmp_path):
    assert parse_vocabulary(' sky, sea ,sand') == ('sky', 'sea', 'sand')
    assert parse_vocabulary(['sky', 'sea']) == ('sky', 'sea')
    assert parse_vocabulary('dog') == ('dog', )  # one word is a one-class vocabulary
    assert parse_vocabulary('pascal_context_59') == VOCABULARIES['pascal_context_59']
    words = tmp_path / 'words.txt'
    words.write_text('potted plant\nsky\n\n')
    assert parse_vocabulary(f'@{words}') == ('potted plant', 'sky')


@pytest.mark.parametrize('vocabulary, message', [
    ('sky;sea', 'separate the words with commas'),
    ('sky,,sea', 'empty name between commas'),
    ('@words.json', 'expected a .txt file'),
    ('@missing.txt', "'missing.txt' does not exist"),
    ('sky,sea,sky', "'sky' twice"),
    # Issue 25.9: one class to CLIP (it lower-cases), three identical embeddings before.
    ('Sky,sky,SKY', r"'Sky', 'sky', 'SKY' \(positions 0, 1, 2\): one class to CLIP"),
    (['potted plant', 'Potted  Plant'], "'potted plant', 'Potted  Plant'"),
    ('pascal_context_60', "unknown vocabulary name 'pascal_context_60': did you mean "),
    ('voc21', "unknown vocabulary name 'voc21': did you mean 'voc20'"),
    ([], 'is empty'),
    (['sky', ''], r"\[1\] = '' is not a non-empty string"),
])
def test_parse_vocabulary_refuses(vocabulary, message):
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        parse_vocabulary(vocabulary, what='--vocab')
