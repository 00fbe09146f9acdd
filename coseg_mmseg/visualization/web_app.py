"""The web demo's gradio app: an image and some words in, the segmentation out.

:func:`build_app` wires :mod:`coseg_mmseg.apis` (``segment``, ``slot_predictions``,
``parse_vocabulary``) to the drawing of :mod:`coseg_mmseg.visualization.overlay`; the command
line is ``tools/web_demo.py``. The app's one API endpoint, ``/segment`` (image, vocabulary
text) -> (overlay, shares, slot panels), is what the page's button calls, so
``gradio_client`` drives exactly what a visitor sees.
"""
import os
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from torch import nn

from ..apis import parse_vocabulary, segment, slot_predictions
from ..datasets.vocabularies import VOCABULARIES
from .overlay import draw_overlay, slot_caption, slot_panel

TYPED = '(the words typed below)'


def read_typed_vocabulary(text: str) -> Tuple[str, ...]:
    """The class names a visitor typed: comma-separated words or a named vocabulary, never a file.

    The page runs on the server, so ``@file.txt`` (which :func:`parse_vocabulary` reads for the
    command-line tools) is refused before any path is looked at: no file's lines reach the
    legend, and no answer says whether a path exists. Errors only repeat what was typed.

    Raises:
        ValueError: One line saying what to type instead.
    """
    text = (text or '').strip()
    if text.startswith('@'):
        raise ValueError('the web page takes words, not files: type class names separated by '
                         'commas ("sky, sea, sand") or choose a named vocabulary')
    return parse_vocabulary(text)


def segment_image(model: nn.Module, image_rgb: Optional[np.ndarray], vocabulary: str, *,
                  opacity: float = 0.5, slots: bool = True
                  ) -> Tuple[np.ndarray, Dict[str, float], List[Tuple[np.ndarray, str]]]:
    """What the page shows for one image and one vocabulary.

    Args:
        model: From :func:`coseg_mmseg.apis.init_model`.
        image_rgb: (H, W, 3) RGB uint8 (gradio's numpy images; RGBA and grey are converted).
        vocabulary: Comma-separated words or a vocabulary name (``voc20``); never a file
            (:func:`read_typed_vocabulary`).
        opacity: Weight of the class colours in the overlay.
        slots: Also compute the per-slot panels (one more forward pass).

    Returns:
        The overlay (H, W, 3) RGB uint8 with its legend, the share of the image's pixels of
        each class present (largest first), and (panel, caption) per slot.

    Raises:
        ValueError: No image, or a vocabulary that cannot be read.
    """
    if image_rgb is None:
        raise ValueError('no image: upload one or pick an example')
    image_rgb = np.asarray(image_rgb)
    if image_rgb.ndim == 2:
        image_rgb = np.repeat(image_rgb[..., None], 3, axis=2)
    image_rgb = np.ascontiguousarray(image_rgb[..., :3]).astype(np.uint8)
    names = read_typed_vocabulary(vocabulary)
    bgr = np.ascontiguousarray(image_rgb[..., ::-1])  # the API takes OpenCV's BGR arrays
    result = segment(model, bgr, names)
    shares = dict(sorted(result.present().items(), key=lambda kv: -kv[1]))
    overlay = draw_overlay(image_rgb, result.label_map, names, shares, opacity=opacity)
    panels = []
    if slots and hasattr(model, 'neck') and model.neck is not None:
        for n, slot in enumerate(slot_predictions(model, bgr, names)):
            panels.append((slot_panel(image_rgb, slot['mask']), slot_caption(n, slot['labels'])))
    return overlay, shares, panels


def build_app(model: nn.Module, *, examples: Sequence[str] = (), vocabulary: str = '',
              title: str = 'CoSeg: open-vocabulary segmentation', opacity: float = 0.5,
              preview: bool = False):
    """The gradio app (not launched): call ``.launch(server_name='127.0.0.1', ...)`` on it.

    Args:
        model: From :func:`coseg_mmseg.apis.init_model`; its calls are serialised (one at a
            time), as the model's test vocabulary is set per call.
        examples: Image paths offered as examples (the first is preloaded).
        vocabulary: The vocabulary text filled in at start.
        title: The page's heading.
        opacity: Weight of the class colours in the overlay.
        preview: Segment the first example with ``vocabulary`` now, so that pages open
            showing its result.

    Returns:
        A ``gradio.Blocks``.
    """
    os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')
    import gradio as gr

    def run(image, text):
        try:
            overlay, shares, panels = segment_image(model, image, text, opacity=opacity)
        except ValueError as error:  # what was typed; never a server file or path
            raise gr.Error(str(error), print_exception=False) from None
        return overlay, shares or {'(no class reached the threshold)': 0.0}, panels

    def pick(name):
        return gr.update() if name == TYPED else name

    slots_shown = getattr(model, 'neck', None) is not None
    first = [None, None, None]
    if preview and examples and vocabulary:
        first = list(run(cv2.cvtColor(cv2.imread(examples[0]), cv2.COLOR_BGR2RGB), vocabulary))
    with gr.Blocks(title=title) as app:
        gr.Markdown(f'## {title}\nUpload an image (or pick an example), type the words to look '
                    f'for, separated by commas, or choose a named vocabulary; then **Segment**.')
        with gr.Row():
            with gr.Column(scale=1):
                image = gr.Image(type='numpy', label='Image', elem_id='image',
                                 value=examples[0] if examples else None,
                                 sources=['upload', 'clipboard'])
                named = gr.Dropdown(choices=[TYPED] + sorted(VOCABULARIES), value=TYPED,
                                    label='Named vocabulary', elem_id='named')
                words = gr.Textbox(value=vocabulary, label='Vocabulary', elem_id='vocabulary',
                                   placeholder='sky, sea, sand, person')
                button = gr.Button('Segment', variant='primary', elem_id='segment')
                if examples:
                    gr.Examples(examples=[[e] for e in examples], inputs=[image])
            with gr.Column(scale=1):
                overlay = gr.Image(type='numpy', label='Segmentation', elem_id='overlay',
                                   interactive=False, format='png', value=first[0])
                shares = gr.Label(label='Share of the image', elem_id='shares', value=first[1])
        gallery = gr.Gallery(label='What each slot found (mask, best labels)', columns=5,
                             height='auto', elem_id='slots', visible=slots_shown,
                             type='numpy', value=first[2])
        named.change(pick, inputs=named, outputs=words, api_name=False)
        outputs = [overlay, shares, gallery]
        button.click(run, inputs=[image, words], outputs=outputs, api_name='segment',
                     concurrency_limit=1)
        words.submit(run, inputs=[image, words], outputs=outputs, api_name=False,
                     concurrency_limit=1)
    return app
