"""CoSegVocabularyHook: each loop's dataset names the classes of its split."""
from types import SimpleNamespace

import pytest

from coseg_mmseg.engine import CoSegVocabularyHook


class Recorder:
    """What the hook gave the model: (classes, split, dataset) per call."""

    def __init__(self):
        self.calls = []

    def set_dataset_classes(self, classes, *, split, dataset):
        self.calls.append((tuple(classes), split, dataset))


class Stuff:
    metainfo = dict(classes=('sky', 'sea'))


class Things:
    metainfo = dict(classes=('dog', 'cat', 'car'))


def runner(model, train=Stuff, val=Things, test=Things):
    loader = lambda kind: SimpleNamespace(dataset=kind())  # noqa: E731
    return SimpleNamespace(model=model, train_dataloader=loader(train),
                           val_dataloader=loader(val), test_dataloader=loader(test))


def test_training_set_names_the_train_split_and_val_test_sets_the_test_split():
    model, hook = Recorder(), CoSegVocabularyHook()
    run = runner(model)
    hook.before_train(run)
    hook.before_val(run)
    hook.before_test(run)
    assert model.calls == [(('sky', 'sea'), 'train', 'Stuff'),
                           (('dog', 'cat', 'car'), 'test', 'Things'),
                           (('dog', 'cat', 'car'), 'test', 'Things')]


def test_a_dataset_without_classes_is_named():
    class Nameless:
        metainfo = dict()

    with pytest.raises(ValueError, match=r"Nameless has no metainfo\[\"classes\"\]"):
        CoSegVocabularyHook().before_train(runner(Recorder(), train=Nameless))


def test_models_without_a_vocabulary_are_left_alone():
    CoSegVocabularyHook().before_train(runner(SimpleNamespace()))  # no set_dataset_classes
