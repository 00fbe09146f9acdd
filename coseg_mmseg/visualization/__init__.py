"""Drawing segmentations (overlay, legend, slot panels) and the web demo's app.

The web app (:mod:`coseg_mmseg.visualization.web_app`) needs gradio, an optional requirement:
import it explicitly.
"""
from .overlay import draw_legend, draw_overlay, draw_slots, palette, slot_caption, slot_panel

__all__ = ['palette', 'draw_legend', 'draw_overlay', 'draw_slots', 'slot_panel', 'slot_caption']
