"""CoSegTTAModel: test-time augmentation that keeps CoSeg's scores and its "no label" rule."""
from typing import List, Sequence

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.utils import SampleList


@MODELS.register_module()
class CoSegTTAModel(SegTTAModel):
    """Merge the augmented views of a CoSeg-family model as the model itself decides.

    mmseg's :class:`SegTTAModel` averages ``softmax(seg_logits)`` and takes the argmax (or, with
    one class, thresholds a sigmoid at ``decode_head.threshold``). CoSeg's ``seg_logits`` are
    already per-class scores in [0, 1] — at each pixel, the highest mask probability among the
    slots named after the class — and a pixel where no class reaches
    ``decode_head.mask_threshold`` gets no label (``decode_head.ignore_index``). A softmax would
    flatten those scores, and the argmax drops "no label". Here the views' scores are averaged
    as they are (each view already flipped back and resized to the original image by the
    segmentor's ``postprocess_result``), then turned into labels by the segmentor's own rule
    (:meth:`CoSegBase.scores_to_labels`). Any vocabulary size from 1 up is handled alike.

    Args:
        module: The segmentor config (``tools/test.py --tta`` puts ``cfg.model`` here).
        data_preprocessor: As in mmengine's ``BaseTTAModel``.
    """

    def set_dataset_classes(self, classes: Sequence[str], **kwargs) -> None:
        """The segmentor's, for :class:`~coseg_mmseg.engine.CoSegVocabularyHook`, which calls
        it on the runner's model: the test vocabulary comes from the test dataset."""
        self.module.set_dataset_classes(classes, **kwargs)

    def set_vocabulary(self, names: Sequence[str], **kwargs) -> None:
        """The segmentor's :meth:`~coseg_mmseg.models.CoSeg.set_vocabulary`."""
        self.module.set_vocabulary(names, **kwargs)

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """One prediction per image from its augmented views.

        Args:
            data_samples_list: Per image, the data samples of its views, each with
                ``seg_logits`` (K, H, W) at the original image size.

        Returns:
            Per image, the first view's sample with the averaged ``seg_logits`` and the
            ``pred_sem_seg`` (1, H, W) of the segmentor's ``scores_to_labels``.
        """
        predictions = []
        for views in data_samples_list:
            scores = torch.stack([view.seg_logits.data for view in views]).mean(dim=0)
            merged = views[0]
            merged.set_data(dict(seg_logits=PixelData(data=scores),
                                 pred_sem_seg=PixelData(data=self.module.scores_to_labels(scores))))
            predictions.append(merged)
        return predictions
