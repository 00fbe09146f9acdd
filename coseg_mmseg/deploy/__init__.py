"""Deployment: the ONNX export of CoSeg's image -> per-class scores graph."""
from .onnx_export import (INPUT_NAMES, OUTPUT_NAMES, CoSegScoresGraph, check_size, export_onnx,
                          trace_size, vocabulary_embeddings)

__all__ = ['CoSegScoresGraph', 'export_onnx', 'trace_size', 'check_size',
           'vocabulary_embeddings', 'INPUT_NAMES', 'OUTPUT_NAMES']
