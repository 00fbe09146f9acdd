from .hooks import AtomicCheckpointHook, CoSegVocabularyHook

__all__ = ['AtomicCheckpointHook', 'CoSegVocabularyHook']
