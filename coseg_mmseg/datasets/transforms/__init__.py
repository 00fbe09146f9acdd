from .clip_rank_view import CLIPRankView
from .load_uint16_annotations import LoadUInt16Annotations

__all__ = ['CLIPRankView', 'LoadUInt16Annotations']
