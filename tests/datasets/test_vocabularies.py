"""Natural-prompt vocabularies line up with the datasets' label ids."""
import pytest
from mmseg.datasets import COCOStuffDataset, PascalContextDataset59, PascalVOCDataset

from coseg_mmseg.datasets import VOCABULARIES, get_vocabulary


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


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown vocabulary name 'sky,sea'"):
        get_vocabulary('sky,sea')
