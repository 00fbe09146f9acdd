"""CoSeg for MMSegmentation 1.x."""
__version__ = '0.1.0'
