from .coseg_vocabulary_hook import CoSegVocabularyHook

__all__ = ['CoSegVocabularyHook']
