from .clip_token_maps import CLIPTokenMaps
from .coexistence_neck import CoexistenceNeck
from .feature_map_adapter import FeatureMapAdapter

__all__ = ['CLIPTokenMaps', 'CoexistenceNeck', 'FeatureMapAdapter']
