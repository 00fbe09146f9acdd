from .atomic_checkpoint_hook import AtomicCheckpointHook
from .coseg_vocabulary_hook import CoSegVocabularyHook

__all__ = ['AtomicCheckpointHook', 'CoSegVocabularyHook']
