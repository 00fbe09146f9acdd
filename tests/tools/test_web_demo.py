"""The web demo (tools/web_demo.py's gradio app) on the tiny model: through gradio's Python
client, and in a real headless browser where Chromium is installed."""
import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import cv2
import numpy as np
import pytest

from coseg_mmseg.apis import init_model, segment
from coseg_mmseg.datasets.vocabularies import VOCABULARIES
from coseg_tools.generators import make_tiny_assets
from tests.helpers import REPO, TINY_CONFIG, save_tiny_checkpoint

pytestmark = pytest.mark.slow  # starts the tools in subprocesses

pytest.importorskip('gradio', reason='the web demo needs gradio (requirements/tests.txt)')
from gradio_client import Client, handle_file  # noqa: E402

from coseg_mmseg.visualization.web_app import build_app, launch  # noqa: E402

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
        launch(app, host='127.0.0.1', port=port, prevent_thread_lock=True, quiet=True)
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


SECRET = 'hunter2-server-secret'


@pytest.fixture(scope='module')
def web_demo(tmp_path_factory):
    """tools/web_demo.py itself, in its own process on a free loopback port, with the tiny
    model, and a secrets file beside it that no visitor may read."""
    root = tmp_path_factory.mktemp('web-hostile')
    save_tiny_checkpoint(str(root), 'tiny.pth')
    image = os.path.join(str(root), make_tiny_assets(str(root / 'data' / 'tiny'))['demo_image'])
    (root / 'secrets.txt').write_text(f'{SECRET}\n{SECRET}-2\n{SECRET}\n')
    port = free_port()
    log = open(root / 'server.log', 'w')
    server = subprocess.Popen(
        [sys.executable, os.path.join(REPO, 'tools', 'web_demo.py'), '--config', TINY_CONFIG,
         '--checkpoint', 'tiny.pth', '--host', '127.0.0.1', '--port', str(port)],
        cwd=str(root), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 180
    while time.time() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=5)
            break
        except OSError:
            time.sleep(1)
    try:
        assert server.poll() is None, (root / 'server.log').read_text()[-3000:]
        yield dict(url=f'http://127.0.0.1:{port}/', image=image, root=root, pid=server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def answer(url: str, image: str, words: str) -> str:
    """Everything the page sends back for one request, as text (outputs or error)."""
    try:
        overlay, shares, slots = Client(url, verbose=False).predict(
            handle_file(image), words, api_name='/segment')
    except Exception as error:  # gradio_client raises the page's error message
        return f'error: {error}'
    return repr((shares, [s['caption'] for s in slots]))


@pytest.mark.slow
def test_web_page_reads_no_server_file(web_demo):
    """'@/path' typed into the page is refused before the path is looked at: nothing of the
    file comes back, and existing and missing paths get the same answer."""
    secrets = str(web_demo['root'] / 'secrets.txt')
    answers = {words: answer(web_demo['url'], web_demo['image'], words)
               for words in ('@/etc/passwd', f'@{secrets}', f' @{secrets}',
                             '@/no/such/file.txt', f'sky, @{secrets}')}
    passwd = open('/etc/passwd').read().splitlines()[0].split(':')[0]  # e.g. 'root'
    for words, text in answers.items():
        assert SECRET not in text and f'{passwd}:' not in text, (words, text)
        assert 'does not exist' not in text and 'twice' not in text, (words, text)
    assert len({answers[w] for w in answers if w.strip().startswith('@')}) == 1, answers
    assert 'takes words, not files' in answers['@/etc/passwd']
    # words still work, and a duplicate is reported from what was typed
    assert 'error' not in answer(web_demo['url'], web_demo['image'], 'sky, sea')
    assert "'sky' twice" in answer(web_demo['url'], web_demo['image'], 'sky, sea, sky')


@pytest.mark.slow
def test_web_page_bounds_what_a_visitor_sends(web_demo, tmp_path):
    """8000 x 8000 is refused from its header; a 30 MB body gets HTTP 413; a 6000 x 4000
    image is segmented shrunk to 2048 pixels; the server stays up."""
    huge = str(tmp_path / 'huge.png')
    cv2.imwrite(huge, np.zeros((8000, 8000, 3), np.uint8))  # a small file of many pixels
    text = answer(web_demo['url'], huge, 'sky, sea')
    assert 'larger than 50 megapixels' in text and huge not in text, text
    port = int(web_demo['url'].rsplit(':', 1)[1].strip('/'))
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    connection.putrequest('POST', '/gradio_api/upload')  # 30 MB announced: answered at once
    connection.putheader('Content-Type', 'multipart/form-data; boundary=x')
    connection.putheader('Content-Length', str(30 * 2**20))
    connection.endheaders()
    assert connection.getresponse().status == 413
    connection.close()
    wide = str(tmp_path / 'wide.jpg')
    cv2.imwrite(wide, cv2.resize(cv2.imread(web_demo['image']), (6000, 4000)))
    overlay, _, slots = Client(web_demo['url'], verbose=False).predict(
        handle_file(wide), 'sky, sea', api_name='/segment')
    assert cv2.imread(overlay).shape == (1365, 2048, 3)
    assert cv2.imread(slots[0]['image']).shape == (1365, 2048, 3)
