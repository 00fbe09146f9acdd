"""CoSegTTAModel: test-time augmentation that keeps CoSeg's scores and its "no label" rule."""
from typing import List, Sequence

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

# The segmentor method that turns per-class scores into labels with "no label"; see
# CoSegTTAModel.labels_from_scores for what it is assumed to do.
POSTPROCESS_METHOD = 'scores_to_labels'


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
    (:meth:`labels_from_scores`). Any vocabulary size from 1 up is handled alike.

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

    def labels_from_scores(self, scores: Tensor) -> Tensor:
        """Labels (1, H, W) from averaged scores (K, H, W), "no label" included.

        Uses the segmentor's ``scores_to_labels(scores)`` when it has one — assumed to take
        (K, H, W) scores of one image and return (1, H, W) labels, ``ignore_index`` where no
        class gets a label: the one place that rule lives once post-processing moves into the
        segmentors' shared base. Until then, the rule of today's ``CoSeg.postprocess_result``:
        the argmax, and ``decode_head.ignore_index`` where the best score is below
        ``decode_head.mask_threshold``.
        """
        postprocess = getattr(self.module, POSTPROCESS_METHOD, None)
        if postprocess is not None:
            return postprocess(scores)
        head = self.module.decode_head
        labels = scores.argmax(dim=0, keepdim=True)  # (1, H, W)
        labels[scores.amax(dim=0, keepdim=True) < head.mask_threshold] = head.ignore_index
        return labels

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """One prediction per image from its augmented views.

        Args:
            data_samples_list: Per image, the data samples of its views, each with
                ``seg_logits`` (K, H, W) at the original image size.

        Returns:
            Per image, the first view's sample with the averaged ``seg_logits`` and the
            ``pred_sem_seg`` (1, H, W) of :meth:`labels_from_scores`.
        """
        predictions = []
        for views in data_samples_list:
            scores = torch.stack([view.seg_logits.data for view in views]).mean(dim=0)
            merged = views[0]
            merged.set_data(dict(seg_logits=PixelData(data=scores),
                                 pred_sem_seg=PixelData(data=self.labels_from_scores(scores))))
            predictions.append(merged)
        return predictions
