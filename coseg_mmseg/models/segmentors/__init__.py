from .coseg import CoSeg
from .coseg_no_train import CoSegNoTrain

__all__ = ['CoSeg', 'CoSegNoTrain']
