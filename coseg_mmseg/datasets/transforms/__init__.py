from .load_uint16_annotations import LoadUInt16Annotations

__all__ = ['LoadUInt16Annotations']
