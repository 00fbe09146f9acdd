from .coseg import CoSeg
from .coseg_no_train import CoSegNoTrain
from .coseg_tta_model import CoSegTTAModel

__all__ = ['CoSeg', 'CoSegNoTrain', 'CoSegTTAModel']
