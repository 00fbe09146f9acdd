from .hooks import CoSegVocabularyHook

__all__ = ['CoSegVocabularyHook']
