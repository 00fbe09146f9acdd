"""CoSegVocabularyHook: give the model the class names of the datasets it runs on."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class CoSegVocabularyHook(Hook):
    """Before training, validation and testing, pass the dataset's ``metainfo['classes']`` to
    the model's ``set_dataset_classes`` (the training vocabulary from the training set, the
    test vocabulary from the validation/test set). A vocabulary fixed in the config wins; it is
    only checked against the dataset's class count. A validation/test set whose metainfo
    holds ``seen_classes`` (a zero-shot protocol's dataset) also tells the model which of its
    names were trained on (``set_seen_classes``, read by ``decode_head.seen_calibration``).
    """

    priority = 'VERY_HIGH'

    @staticmethod
    def _apply(runner, dataloader, split: str) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'set_dataset_classes'):
            return
        dataset = dataloader.dataset
        classes = dataset.metainfo.get('classes')
        if not classes:
            raise ValueError(f'{type(dataset).__name__} has no metainfo["classes"]; set the '
                             f'model\'s vocabulary in the config instead')
        model.set_dataset_classes(classes, split=split, dataset=type(dataset).__name__)
        if split == 'test' and hasattr(model, 'set_seen_classes'):
            model.set_seen_classes(dataset.metainfo.get('seen_classes'))

    def before_train(self, runner) -> None:
        self._apply(runner, runner.train_dataloader, 'train')

    def before_val(self, runner) -> None:
        self._apply(runner, runner.val_dataloader, 'test')

    def before_test(self, runner) -> None:
        self._apply(runner, runner.test_dataloader, 'test')
