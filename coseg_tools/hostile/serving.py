"""Hostile inputs to the serving side (issue 25, items 2, 4, 5, 7): what a visitor sends the web
demo, an image too large for memory, a training job killed during a checkpoint save, and
planted or broken cache entries.

Handled means, per kind:

- web demo (``tools/web_demo.py`` in its own process, loopback only, started once for the
  sweep): nothing of a server file comes back, the answer does not tell an existing path from a
  missing one, an oversized request is refused (HTTP 413 or one error), the server stays up;
- tools: exit status 2 with one ``error:`` line and no traceback;
- a kill during a save: ``--resume`` continues from a complete checkpoint and finishes, and no
  temporary file is left;
- caches: the bad entry is not served (a warning names it) and the result equals the one
  computed without the cache.
"""
import atexit
import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from . import Case

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = REPO / 'configs' / 'tiny' / 'coseg_prefix_tiny_cocostuff.py'
SECRET = 'coseg-hostile-secret-line'
TIMEOUT = 600
_world: Optional[Path] = None
_server: Optional[dict] = None


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    env.pop('COSEG_DEBUG', None)
    return env


def tiny_world() -> Path:
    """A folder with ``data/tiny``, ``tiny.pth`` (a random tiny CoSeg, seed 0) and a secrets
    file ``secrets.txt`` (its lines, one of them twice, must never reach a visitor)."""
    global _world
    if _world is None:
        from mmengine.logging import MMLogger
        from mmengine.registry import init_default_scope

        import coseg_mmseg  # noqa: F401  (registers the components)
        from coseg_tools.generators import save_tiny_checkpoint
        init_default_scope('mmseg')
        MMLogger.get_instance('mmengine').setLevel(logging.WARNING)  # no per-weight init log
        root = Path(tempfile.mkdtemp(prefix='coseg-hostile-serving-'))
        save_tiny_checkpoint(str(root), 'tiny.pth', config=str(TINY_CONFIG))
        (root / 'secrets.txt').write_text(f'{SECRET}\n{SECRET}-2\n{SECRET}\n')
        _world = root
    return _world


def _image(root: Path) -> str:
    from coseg_tools.generators import make_tiny_assets
    return str(root / make_tiny_assets(str(root / 'data' / 'tiny'))['demo_image'])


# ------------------------------------------------------------------------- the web demo
def web_server() -> dict:
    """tools/web_demo.py on a free loopback port (started once, stopped at exit)."""
    global _server
    if _server is not None and _server['process'].poll() is None:
        return _server
    root = tiny_world()
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    log = open(root / 'web.log', 'w')
    process = subprocess.Popen(
        [sys.executable, str(REPO / 'tools' / 'web_demo.py'), '--config', str(TINY_CONFIG),
         '--checkpoint', 'tiny.pth', '--host', '127.0.0.1', '--port', str(port)],
        cwd=root, env=_env(), stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}/'
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=5)
            break
        except OSError:
            time.sleep(1)
    _server = dict(process=process, url=url, port=port, root=root)

    def stop():
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
    atexit.register(stop)
    return _server


def _ask(image: str, words: str) -> str:
    """Everything the page answers to one request, as text."""
    from gradio_client import Client, handle_file
    server = web_server()
    try:
        _, shares, slots = Client(server['url'], verbose=False).predict(
            handle_file(image), words, api_name='/segment')
    except Exception as error:  # gradio_client raises with the page's error message
        return f'error: {error}'
    return repr((shares, [slot.get('caption') for slot in slots]))


def _alive() -> bool:
    try:
        urllib.request.urlopen(web_server()['url'], timeout=30)
        return True
    except OSError:
        return False


def web_vocabulary_file(path: Callable[[Path], str]) -> Callable[[Path], Tuple[bool, str]]:
    """A visitor types ``@<path>`` as the vocabulary."""
    def run(scratch: Path) -> Tuple[bool, str]:
        root = tiny_world()
        target = path(root)
        text = _ask(_image(root), f'@{target}')
        probe = _ask(_image(root), '@/no/such/folder/words.txt')
        leaked = [s for s in (SECRET, 'root:', '/bin/', 'twice') if s in text]
        problems = ([f'the answer holds {leaked}'] if leaked else []) + (
            ['an existing and a missing path get different answers'] if text != probe else []) + (
            [] if _alive() else ['the server died'])
        return not problems, '; '.join(problems) or text
    return run


def web_huge_image(scratch: Path) -> Tuple[bool, str]:
    """An 8000 x 8000 PNG (a small file of 64 megapixels) uploaded to the page."""
    import cv2
    import numpy as np
    path = str(scratch / 'huge.png')
    cv2.imwrite(path, np.zeros((8000, 8000, 3), np.uint8))
    text = _ask(path, 'sky, sea')
    handled = 'megapixels' in text and text.startswith('error') and _alive()
    return handled, text


def web_oversized_body(scratch: Path) -> Tuple[bool, str]:
    """A request announcing a 30 MB body."""
    connection = http.client.HTTPConnection('127.0.0.1', web_server()['port'], timeout=60)
    try:
        connection.putrequest('POST', '/gradio_api/upload')
        connection.putheader('Content-Type', 'multipart/form-data; boundary=x')
        connection.putheader('Content-Length', str(30 * 2**20))
        connection.endheaders()
        status = connection.getresponse().status
    finally:
        connection.close()
    return status == 413 and _alive(), f'HTTP {status}'


# ------------------------------------------------------------------------- tools and API
def demo_huge_image(scratch: Path) -> Tuple[bool, str]:
    """tools/demo.py on an 8000 x 8000 image."""
    import cv2
    import numpy as np
    root = tiny_world()
    path = str(scratch / 'huge.png')
    cv2.imwrite(path, np.zeros((8000, 8000, 3), np.uint8))
    done = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'demo.py'), path, '--vocab', 'sky,sea',
         '--config', str(TINY_CONFIG), '--checkpoint', 'tiny.pth', '--out',
         str(scratch / 'out.png')], cwd=root, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
    errors = [line for line in done.stdout.splitlines() if line.startswith('error:')]
    handled = (done.returncode == 2 and len(errors) == 1 and 'megapixels' in errors[0]
               and 'Traceback' not in done.stdout)
    return handled, errors[0] if errors else f'exit {done.returncode}: {done.stdout[-300:]}'


def api_huge_array(scratch: Path) -> Tuple[bool, str]:
    """coseg_mmseg.apis.segment on an 8000 x 8000 array."""
    import numpy as np

    from coseg_mmseg.apis import init_model, segment
    root = tiny_world()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        model = init_model(str(TINY_CONFIG), 'tiny.pth')
        try:
            segment(model, np.zeros((8000, 8000, 3), np.uint8), ['sky', 'sea'])
        except ValueError as error:
            return 'megapixels' in str(error), str(error)
        return False, 'segmented without a limit'
    finally:
        os.chdir(cwd)


# ------------------------------------------------------------------------- a kill during a save
KILLER = '''
import os, signal
_fsync = os.fsync
def fsync(fd):
    name = os.path.basename(os.readlink(f'/proc/self/fd/{fd}'))
    if os.environ.get('COSEG_KILL_AT') and name.startswith('.' + os.environ['COSEG_KILL_AT']) \\
            and name.endswith('.tmp'):
        os.kill(os.getpid(), signal.SIGKILL)
    return _fsync(fd)
os.fsync = fsync
'''


def kill_during_save(scratch: Path) -> Tuple[bool, str]:
    """tools/train.py SIGKILLed while writing iter_2.pth (max_keep_ckpts=1), then --resume."""
    root = tiny_world()
    (scratch / 'killer').mkdir()
    (scratch / 'killer' / 'sitecustomize.py').write_text(KILLER)
    work_dir = scratch / 'work'
    options = ['train_cfg.max_iters=3', 'default_hooks.checkpoint.interval=1',
               'default_hooks.checkpoint.max_keep_ckpts=1', 'train_cfg.val_interval=1000']

    def train(*args, kill=False):
        env = _env()
        env['PYTHONPATH'] = os.pathsep.join([str(scratch / 'killer'), env['PYTHONPATH']])
        env['OMP_NUM_THREADS'] = '1'
        if kill:
            env['COSEG_KILL_AT'] = 'iter_2.pth'
        return subprocess.run(
            [sys.executable, str(REPO / 'tools' / 'train.py'), str(TINY_CONFIG), '--work-dir',
             str(work_dir), *args, '--cfg-options', *options], cwd=root, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)

    killed = train(kill=True)
    if killed.returncode != -signal.SIGKILL:
        return False, f'the kill did not happen (exit {killed.returncode})'
    resumed = train('--resume')
    tmp = [f for f in os.listdir(work_dir) if f.endswith('.tmp')]
    kept = sorted(f for f in os.listdir(work_dir) if f.endswith('.pth'))
    handled = resumed.returncode == 0 and not tmp and kept == ['iter_3.pth']
    lines = resumed.stdout.strip().splitlines()
    return handled, (f'resumed and finished: {kept}, no .tmp left' if handled else
                     f'exit {resumed.returncode}, checkpoints {kept}, temporaries {tmp}: '
                     f'{lines[-1] if lines else ""}')


# ------------------------------------------------------------------------- caches
def _warned(call: Callable[[], object], says: str) -> Tuple[object, List[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        result = call()
    return result, [str(w.message) for w in caught if says in str(w.message)]


def text_cache_entry(change: str) -> Callable[[Path], Tuple[bool, str]]:
    """The text-embedding disk cache's entry for a vocabulary, rewritten (same file, same key)."""
    def run(scratch: Path) -> Tuple[bool, str]:
        import torch

        from coseg_mmseg.models import FrozenCLIPTextEncoder
        from coseg_tools.generators import TINY_TEXT_ENCODER
        names = ['sky', 'sea', 'sand']

        def encoder():
            torch.manual_seed(0)
            return FrozenCLIPTextEncoder(**TINY_TEXT_ENCODER, disk_cache=True,
                                         cache_dir=str(scratch))
        expected = encoder()(names)
        [path] = (scratch / 'text_embeddings').glob('*.pt')
        if change == 'malformed':
            path.write_bytes(b'PK\x03\x04 not a checkpoint')
        else:
            entry = torch.load(path, weights_only=True)
            embeds = entry['embeds']
            entry['embeds'] = {'two classes swapped': lambda: embeds[[1, 0, 2]].clone(),
                               'NaN': lambda: embeds * float('nan'),
                               'wrong width': lambda: torch.cat([embeds, embeds], 1)}[change]()
            torch.save(entry, path)
        got, said = _warned(lambda: encoder()(names), 'text-embedding cache')
        handled = bool(said) and torch.equal(got, expected)
        return handled, said[0] if said else ('served without a warning' if torch.equal(
            got, expected) else 'the planted entry was served')
    return run


def feature_cache_entry(change: str) -> Callable[[Path], Tuple[bool, str]]:
    """A feature-cache entry rewritten (same file, same key): the cache must not serve it."""
    def run(scratch: Path) -> Tuple[bool, str]:
        import torch
        from mmseg.structures import SegDataSample

        from coseg_mmseg.models.utils.feature_cache import FeatureCache
        backbone = torch.nn.Conv2d(3, 4, 3).requires_grad_(False)
        samples, images = [], torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
        for i in range(2):
            sample = SegDataSample()
            sample.set_metainfo(dict(img_path=f'img{i}.jpg', ori_shape=(8, 8)))
            samples.append(sample)
        cache = FeatureCache(cache_dir=str(scratch), dtype='float32', backbone=backbone)
        features = [dict(layers=[backbone(im[None])[0]], grid=(6, 6)) for im in images]
        for sample, image, feats in zip(samples, images, features):
            cache.put(sample, image, feats)
        path = Path(cache._path(cache._key(samples[0])))
        if change == 'malformed':
            path.write_bytes(b'\x80\x04 not a checkpoint')
        else:
            entry = torch.load(path, weights_only=True)
            other = torch.load(cache._path(cache._key(samples[1])), weights_only=True)
            if change == "another image's features":
                entry['features'] = other['features']
            else:  # NaN
                entry['features']['layers'][0][0, 0, 0] = float('nan')
            torch.save(entry, path)
        fresh = FeatureCache(cache_dir=str(scratch), dtype='float32', backbone=backbone)
        got, said = _warned(lambda: fresh.get(samples[0], images[0]), 'cached backbone features')
        handled = got is None and bool(said)
        return handled, said[0] if said else 'the entry was served'
    return run


CASES: List[Case] = [
    Case('web: vocabulary @/etc/passwd', web_vocabulary_file(lambda root: '/etc/passwd')),
    Case('web: vocabulary @<a secrets file> (a line twice)',
         web_vocabulary_file(lambda root: str(root / 'secrets.txt'))),
    Case('web: upload of 8000 x 8000 pixels', web_huge_image),
    Case('web: request of 30 MB', web_oversized_body),
    Case('demo.py: 8000 x 8000 image', demo_huge_image),
    Case('segment(): 8000 x 8000 array', api_huge_array),
    Case('train.py: SIGKILL during a checkpoint save, then --resume', kill_during_save),
    *[Case(f'text-embedding cache: {change} entry', text_cache_entry(change))
      for change in ('two classes swapped', 'NaN', 'wrong width', 'malformed')],
    *[Case(f'feature cache: {change} entry', feature_cache_entry(change))
      for change in ("another image's features", 'NaN', 'malformed')],
]
