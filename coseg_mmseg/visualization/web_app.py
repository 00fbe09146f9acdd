"""The web demo's gradio app: an image and some words in, the segmentation out.

:func:`build_app` wires :mod:`coseg_mmseg.apis` (``segment``, ``slot_predictions``,
``parse_vocabulary``) to the drawing of :mod:`coseg_mmseg.visualization.overlay`; the command
line is ``tools/web_demo.py``. The app's one API endpoint, ``/segment`` (image, vocabulary
text) -> (overlay, shares, slot panels), is what the page's button calls, so
``gradio_client`` drives exactly what a visitor sees.

What a visitor can send is bounded (:func:`launch` applies it): words only, never a server
file (:func:`read_typed_vocabulary`); request bodies up to ``MAX_REQUEST_BYTES`` and uploads up
to ``MAX_UPLOAD_BYTES`` (HTTP 413 beyond); images up to ``MAX_IMAGE_PIXELS``, refused from
their header before decoding; larger sides shrunk to ``MAX_SIDE`` pixels before segmenting.
"""
import os
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from torch import nn

from ..apis import MAX_IMAGE_PIXELS, check_image_size, parse_vocabulary, segment, slot_predictions
from ..apis.inference import image_size
from ..datasets.vocabularies import VOCABULARIES
from .overlay import draw_overlay, slot_caption, slot_panel

TYPED = '(the words typed below)'
# What one visitor may send: an upload's bytes, a request body's bytes (the upload plus its
# form), an image's pixels (checked from the header, before decoding), and the longer side an
# image is shrunk to before it is segmented and drawn.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 1024 * 1024
MAX_SIDE = 2048
LIMITS = (f'Images up to {MAX_UPLOAD_BYTES // 2**20} MB and {MAX_IMAGE_PIXELS // 10**6} '
          f'megapixels; a longer side above {MAX_SIDE} pixels is shrunk to {MAX_SIDE}.')


def read_upload(image) -> np.ndarray:
    """The visitor's image as (H, W, 3) RGB uint8, at most ``MAX_SIDE`` pixels on a side.

    Args:
        image: An uploaded file's path (gradio's ``type='filepath'``) or an RGB(A)/grey array.

    Raises:
        ValueError: No image, too many pixels, or not decodable; the message names no path.
    """
    if image is None:
        raise ValueError('no image: upload one or pick an example')
    if isinstance(image, (str, os.PathLike)):
        size = image_size(str(image))  # from the header: nothing decoded yet
        if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
            raise ValueError(f'the image is larger than {MAX_IMAGE_PIXELS // 10**6} megapixels: '
                             f'resize it and upload it again')
        bgr = None if size is None else cv2.imread(str(image), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError('the upload is not an image that can be read (JPEG, PNG, BMP, '
                             'TIFF or WebP)')
        return cv2.cvtColor(shrink(bgr), cv2.COLOR_BGR2RGB)  # shrunk first: one small copy
    rgb = np.asarray(image)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    check_image_size(rgb, MAX_IMAGE_PIXELS)
    return shrink(np.ascontiguousarray(rgb[..., :3]).astype(np.uint8))


def shrink(image: np.ndarray) -> np.ndarray:
    """(H, W, C) -> the same with its longer side at most ``MAX_SIDE`` (area interpolation)."""
    height, width = image.shape[:2]
    if max(height, width) <= MAX_SIDE:
        return image
    scale = MAX_SIDE / max(height, width)
    return cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                      interpolation=cv2.INTER_AREA)


class BodyLimit:
    """ASGI middleware: requests whose body exceeds ``max_bytes`` get HTTP 413.

    A declared ``Content-Length`` above the limit is answered at once; a body sent without one
    is counted as it arrives and the request is cut off when it passes the limit.
    """

    def __init__(self, app, max_bytes: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send) -> None:
        body = f'request larger than {self.max_bytes} bytes'.encode()
        await send({'type': 'http.response.start', 'status': 413,
                    'headers': [(b'content-type', b'text/plain'),
                                (b'content-length', str(len(body)).encode())]})
        await send({'type': 'http.response.body', 'body': body})

    async def __call__(self, scope, receive, send) -> None:
        if scope['type'] != 'http':
            return await self.app(scope, receive, send)
        declared = dict(scope.get('headers') or []).get(b'content-length')
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message['type'] == 'http.request':
                seen += len(message.get('body', b''))
                if seen > self.max_bytes:
                    raise ValueError(f'request body above {self.max_bytes} bytes')
            return message
        return await self.app(scope, counted, send)


def launch(app, *, host: str = '127.0.0.1', port: int = 7860, **kwargs):
    """``app.launch`` with the page's limits: upload size (gradio's ``max_file_size``) and
    request size (:class:`BodyLimit`); other keywords go to ``launch``."""
    from starlette.middleware import Middleware
    return app.launch(server_name=host, server_port=port, share=False,
                      max_file_size=MAX_UPLOAD_BYTES,
                      app_kwargs=dict(middleware=[Middleware(BodyLimit)]), **kwargs)


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


def segment_image(model: nn.Module, image, vocabulary: str, *,
                  opacity: float = 0.5, slots: bool = True
                  ) -> Tuple[np.ndarray, Dict[str, float], List[Tuple[np.ndarray, str]]]:
    """What the page shows for one image and one vocabulary.

    Args:
        model: From :func:`coseg_mmseg.apis.init_model`.
        image: An uploaded file's path, or an (H, W, 3) RGB uint8 array (RGBA and grey are
            converted); shrunk to ``MAX_SIDE`` (:func:`read_upload`).
        vocabulary: Comma-separated words or a vocabulary name (``voc20``); never a file
            (:func:`read_typed_vocabulary`).
        opacity: Weight of the class colours in the overlay.
        slots: Also compute the per-slot panels (one more forward pass).

    Returns:
        The overlay (H, W, 3) RGB uint8 with its legend (at the shrunk size), the share of
        the image's pixels of each class present (largest first), and (panel, caption) per slot.

    Raises:
        ValueError: No image, an image too large or unreadable, or a vocabulary that cannot be
            read.
    """
    names = read_typed_vocabulary(vocabulary)
    image_rgb = read_upload(image)
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
    """The gradio app (not launched): serve it with :func:`launch` (which sets the limits).

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
        first = list(run(examples[0], vocabulary))
    with gr.Blocks(title=title) as app:
        gr.Markdown(f'## {title}\nUpload an image (or pick an example), type the words to look '
                    f'for, separated by commas, or choose a named vocabulary; then **Segment**. '
                    f'{LIMITS}')
        with gr.Row():
            with gr.Column(scale=1):
                image = gr.Image(type='filepath', label='Image', elem_id='image',
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
