from ..datasets.vocabularies import parse_vocabulary
from .inference import (MAX_IMAGE_PIXELS, SegmentationResult, check_image_size, init_model,
                        segment, slot_predictions)

__all__ = ['MAX_IMAGE_PIXELS', 'SegmentationResult', 'check_image_size', 'init_model',
           'parse_vocabulary', 'segment', 'slot_predictions']
