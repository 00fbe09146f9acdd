"""CoSegVocabularyHook hands a test set's classes and seen classes to the model."""
from types import SimpleNamespace

from coseg_mmseg.engine.hooks.coseg_vocabulary_hook import CoSegVocabularyHook


class Model:
    def __init__(self):
        self.calls = []

    def set_dataset_classes(self, classes, *, split, dataset):
        self.calls.append(('classes', tuple(classes), split))

    def set_seen_classes(self, names):
        self.calls.append(('seen', names))


def runner_with(metainfo):
    loader = SimpleNamespace(dataset=SimpleNamespace(metainfo=metainfo))
    return SimpleNamespace(model=Model(), test_dataloader=loader, train_dataloader=loader)


def test_test_set_seen_classes_reach_the_model():
    runner = runner_with(dict(classes=('a', 'b', 'c'), seen_classes=('a', 'c')))
    CoSegVocabularyHook().before_test(runner)
    assert runner.model.calls == [('classes', ('a', 'b', 'c'), 'test'), ('seen', ('a', 'c'))]
    # a dataset without them resets what an earlier test set said
    runner = runner_with(dict(classes=('a', 'b')))
    CoSegVocabularyHook().before_test(runner)
    assert runner.model.calls[-1] == ('seen', None)
    CoSegVocabularyHook().before_train(runner)
    assert runner.model.calls[-1] == ('classes', ('a', 'b'), 'train')
