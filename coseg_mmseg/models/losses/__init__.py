from .coseg_loss import (CoSegLoss, mask_bce_loss, mask_dice_loss, sequence_contrastive_loss,
                         vocabulary_contrastive_loss)

__all__ = ['CoSegLoss', 'mask_bce_loss', 'mask_dice_loss', 'sequence_contrastive_loss',
           'vocabulary_contrastive_loss']
