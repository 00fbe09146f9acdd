from ..datasets.vocabularies import parse_vocabulary
from .inference import SegmentationResult, init_model, segment, slot_predictions

__all__ = ['SegmentationResult', 'init_model', 'parse_vocabulary', 'segment', 'slot_predictions']
