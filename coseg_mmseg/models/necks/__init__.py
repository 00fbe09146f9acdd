from .coexistence_neck import CoexistenceNeck

__all__ = ['CoexistenceNeck']
