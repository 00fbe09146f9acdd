"""Peak memory of segmenting one large image with many words, and of one large web upload.

Usage:
    python tools/benchmarks/benchmark_memory.py [--before COMMIT] [--size 2000] [--words 200]
        [--upload 4000 8000] [--upload-words 12]

Each measurement runs in its own process on the tiny model (the sizes that matter here are the
image's and the vocabulary's, not the network's), and reports the process's peak resident
memory (``ru_maxrss``) before and after the measured call:

- ``segment``: ``coseg_mmseg.apis.segment`` on a SIZE x SIZE image with WORDS class names
  (the vocabulary is encoded once beforehand, so the figure is the segmentation's own);
- ``web``: the web demo's app served on loopback, one request through gradio's client with an
  UPLOAD x UPLOAD JPEG and UPLOAD_WORDS words.

With ``--before COMMIT`` the same measurements are also run on that commit's code (extracted
with ``git archive`` into a temporary folder), for a before/after table.
"""
import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(REPO, 'configs', 'tiny', 'coseg_prefix_tiny_cocostuff.py')

PRELUDE = '''
import json, os, resource, sys
import numpy as np
def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from coseg_mmseg.apis import init_model, segment
model = init_model(CONFIG, 'tiny.pth')
words = [f'thing number {i}' for i in range(WORDS)]
'''

SEGMENT = PRELUDE + '''
segment(model, np.zeros((64, 64, 3), np.uint8), words)  # the vocabulary encoded once
image = np.random.RandomState(0).randint(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
before = peak_mib()
result = segment(model, image, words)
print(json.dumps(dict(before_mib=round(before), peak_mib=round(peak_mib()),
                      labels=list(result.label_map.shape))))
'''

WEB = PRELUDE + '''
import socket
import cv2
from gradio_client import Client, handle_file
from coseg_mmseg.visualization import web_app
with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
app = web_app.build_app(model)
if hasattr(web_app, 'launch'):
    web_app.launch(app, host='127.0.0.1', port=port, prevent_thread_lock=True, quiet=True)
else:  # the code before the limits
    app.launch(server_name='127.0.0.1', server_port=port, prevent_thread_lock=True, quiet=True)
small = os.path.abspath('small.jpg')
cv2.imwrite(small, np.full((64, 64, 3), 128, np.uint8))
client = Client(f'http://127.0.0.1:{port}/', verbose=False)
client.predict(handle_file(small), ', '.join(words), api_name='/segment')  # warm-up
upload = os.path.abspath(f'upload_{SIZE}.jpg')  # made by the parent: not in this baseline
before = peak_mib()
try:
    overlay, _, _ = client.predict(handle_file(upload), ', '.join(words), api_name='/segment')
    answer = 'segmented, overlay ' + 'x'.join(map(str, cv2.imread(overlay).shape[1::-1]))
except Exception as error:
    answer = f'refused: {error}'
print(json.dumps(dict(before_mib=round(before), peak_mib=round(peak_mib()),
                      file_mib=round(os.path.getsize(upload) / 2**20, 1), answer=answer)))
app.close()
'''


def run_child(code: str, tree: str, workspace: str, **values) -> dict:
    """Run one measurement in a fresh interpreter on ``tree``'s code; its JSON line."""
    config = os.path.join(tree, os.path.relpath(CONFIG, REPO))
    for name, value in dict(values, CONFIG=repr(config)).items():
        code = code.replace(name, str(value))
    env = dict(os.environ, PYTHONPATH=tree, GRADIO_ANALYTICS_ENABLED='False')
    done = subprocess.run([sys.executable, '-c', code], cwd=workspace, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith('{')]
    if done.returncode != 0 or not lines:
        return dict(error=f'exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}')
    return json.loads(lines[-1])


def make_workspace(folder: str) -> None:
    """Tiny assets and a tiny checkpoint (seed 0) in ``folder``."""
    import torch
    from mmengine.config import Config
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    from coseg_tools.generators import make_tiny_assets
    import coseg_mmseg  # noqa: F401  (registration)
    register_all_modules()
    make_tiny_assets(os.path.join(folder, 'data', 'tiny'))
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        torch.manual_seed(0)
        model = MODELS.build(Config.fromfile(CONFIG).model)
        with contextlib.redirect_stdout(io.StringIO()):  # mmengine's per-weight init report
            model.init_weights()
        torch.save(dict(state_dict=model.state_dict(), meta={}), 'tiny.pth')
    finally:
        os.chdir(cwd)


def make_upload(folder: str, side: int) -> None:
    """``upload_SIDE.jpg``: a smooth ramp (a small file of many pixels), made in this process so
    that the measuring process's baseline does not hold it."""
    import cv2
    import numpy as np
    path = os.path.join(folder, f'upload_{side}.jpg')
    if not os.path.exists(path):
        ramp = np.linspace(0, 127, side, dtype=np.float32).astype(np.uint8)
        image = np.add.outer(ramp, ramp).astype(np.uint8)
        cv2.imwrite(path, cv2.merge([image, image, image]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--before', help='also measure this commit (e.g. the one before a fix)')
    parser.add_argument('--size', type=int, default=2000, help='segment: image side')
    parser.add_argument('--words', type=int, default=200, help='segment: class names')
    parser.add_argument('--upload', type=int, nargs='*', default=[4000, 8000],
                        help='web: upload sides')
    parser.add_argument('--upload-words', type=int, default=12, help='web: class names')
    parser.add_argument('--before-uploads', type=int, nargs='*', default=[4000],
                        help='web sides also measured on --before (the old code has no limit)')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workspace:
        make_workspace(workspace)
        trees = [('after', REPO)]
        if args.before:
            old = os.path.join(workspace, 'before')
            os.makedirs(old)
            archive = subprocess.run(['git', '-C', REPO, 'archive', args.before],
                                     stdout=subprocess.PIPE, check=True).stdout
            subprocess.run(['tar', '-x', '-C', old], input=archive, check=True)
            trees.insert(0, (f'before ({args.before})', old))
        print(f'# peak resident memory (ru_maxrss) of one call, tiny model, '
              f'{os.cpu_count()} CPUs')
        for label, tree in trees:
            result = run_child(SEGMENT, tree, workspace, SIZE=args.size, WORDS=args.words)
            print(f'{label:<20} segment {args.size}x{args.size}, {args.words} words: '
                  f'{json.dumps(result)}', flush=True)
            sides = args.upload if label == 'after' else args.before_uploads
            for side in sides:
                make_upload(workspace, side)
                result = run_child(WEB, tree, workspace, SIZE=side, WORDS=args.upload_words)
                print(f'{label:<20} web upload {side}x{side}, {args.upload_words} words: '
                      f'{json.dumps(result)}', flush=True)


if __name__ == '__main__':
    main()
