"""The web demo (tools/web_demo.py's gradio app) on the tiny model: through gradio's Python
client, and in a real headless browser where Chromium is installed."""
import os
import shutil
import socket
import subprocess

import cv2
import numpy as np
import pytest

from coseg_mmseg.apis import init_model, segment
from coseg_mmseg.datasets.vocabularies import VOCABULARIES
from coseg_tools.generators import make_tiny_assets
from tests.helpers import TINY_CONFIG, save_tiny_checkpoint

pytestmark = pytest.mark.slow  # starts the tools in subprocesses

pytest.importorskip('gradio', reason='the web demo needs gradio (requirements/tests.txt)')
from gradio_client import Client, handle_file  # noqa: E402

from coseg_mmseg.visualization.web_app import build_app  # noqa: E402

CHROMIUM = '/usr/bin/chromium'
WORDS = 'grass, sea, road, person'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def served(tmp_path_factory):
    """The app on a tiny (random) CoSeg, served on a free localhost port."""
    root = tmp_path_factory.mktemp('web')
    save_tiny_checkpoint(str(root), 'tiny.pth')
    paths = make_tiny_assets(str(root / 'data' / 'tiny'))  # made already: only the paths
    cwd = os.getcwd()
    os.chdir(root)
    try:
        model = init_model(TINY_CONFIG, 'tiny.pth')
        image = os.path.join(str(root), paths['demo_image'])
        app = build_app(model, examples=[image], vocabulary=WORDS, preview=True)
        port = free_port()
        app.launch(server_name='127.0.0.1', server_port=port, prevent_thread_lock=True,
                   quiet=True)
        yield dict(url=f'http://127.0.0.1:{port}/', model=model, image=image, root=root)
        app.close()
    finally:
        os.chdir(cwd)


def test_client_gets_overlay_shares_and_slots(served):
    client = Client(served['url'], verbose=False)
    overlay, shares, slots = client.predict(handle_file(served['image']), WORDS,
                                            api_name='/segment')
    image = cv2.imread(served['image'])
    drawn = cv2.imread(overlay)
    assert drawn.shape == image.shape  # the overlay is at the image's size
    assert not np.array_equal(drawn, image)  # something was drawn on it
    # The shares are those of the API's own segmentation of the same image.
    expected = segment(served['model'], image, [w.strip() for w in WORDS.split(',')]).present()
    got = {c['label']: c['confidence'] for c in shares['confidences']}
    assert set(got) == set(expected) and expected
    for name, share in expected.items():
        assert got[name] == pytest.approx(share, abs=1e-6)
    assert len(slots) == served['model'].neck.num_slots
    assert [s['caption'].split(':')[0] for s in slots] == \
        [f'slot {n}' for n in range(len(slots))]
    first = cv2.imread(slots[0]['image'])
    assert first.shape == image.shape


def test_named_vocabulary_and_bad_vocabulary(served):
    client = Client(served['url'], verbose=False)
    _, shares, _ = client.predict(handle_file(served['image']), 'voc20', api_name='/segment')
    assert {c['label'] for c in shares['confidences']} <= set(VOCABULARIES['voc20']) | {
        '(no class reached the threshold)'}
    with pytest.raises(Exception, match='empty name between commas'):
        client.predict(handle_file(served['image']), 'sky,,sea', api_name='/segment')


@pytest.mark.skipif(not os.path.isfile(CHROMIUM), reason=f'no Chromium at {CHROMIUM}')
def test_page_renders_in_headless_chromium(served, tmp_path):
    flags = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
             '--no-first-run', '--disable-background-networking', '--disable-component-update',
             '--disable-sync', f'--user-data-dir={tmp_path / "profile"}',
             '--window-size=1280,1000', '--virtual-time-budget=15000']
    dom = subprocess.run(flags + ['--dump-dom', served['url']], capture_output=True, text=True,
                         timeout=120)
    assert 'CoSeg: open-vocabulary segmentation' in dom.stdout, dom.stderr[-2000:]
    for element in ('id="vocabulary"', 'id="segment"', 'id="overlay"', 'id="slots"'):
        assert element in dom.stdout
    assert 'slot 0: ' in dom.stdout  # the preview's slot captions were rendered
    shot = tmp_path / 'page.png'
    subprocess.run(flags + [f'--screenshot={shot}', served['url']], capture_output=True,
                   timeout=120)
    page = cv2.imread(str(shot))
    assert page is not None and page.shape[:2] == (1000, 1280)
    assert len(np.unique(page.reshape(-1, 3), axis=0)) > 50  # rendered, not a blank page
    if os.environ.get('COSEG_SCREENSHOT'):
        shutil.copy(shot, os.environ['COSEG_SCREENSHOT'])
