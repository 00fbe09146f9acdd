from .coexistence_neck import CoexistenceNeck
from .feature_map_adapter import FeatureMapAdapter

__all__ = ['CoexistenceNeck', 'FeatureMapAdapter']
