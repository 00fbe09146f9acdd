"""Hostile inputs to the loading side (issue 25, items 1, 3, 6, 8, 9): crafted checkpoints and
files handed to ``tools/export_onnx.py``, ``tools/test.py``, ``tools/train.py`` and
``tools/demo.py`` as a user would run them (subprocesses, real files on disk).

Handled means: exit status 2, exactly one ``error:`` line that names the file (or value), no
traceback, and nothing the file asked for was run (no marker file appears).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from . import Case
from . import _crafted as crafted

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = REPO / 'configs' / 'tiny' / 'coseg_prefix_tiny_cocostuff.py'
CLASSES = ('grass', 'sea', 'road', 'person')
TIMEOUT = 600
_world: Optional[Path] = None


def tiny_world() -> Path:
    """A folder holding ``data/tiny`` (the tiny CLIP and dataset) and ``model.pth``, a
    checkpoint of a randomly initialised tiny CoSeg as tools/train.py saves one (made once
    per process)."""
    global _world
    if _world is None:
        from mmengine.logging import MMLogger
        from mmengine.registry import init_default_scope

        import coseg_mmseg  # noqa: F401  (registers the components)
        from coseg_tools.generators import save_tiny_checkpoint
        init_default_scope('mmseg')
        MMLogger.get_instance('mmengine', log_level='WARNING')  # no per-weight init log
        root = Path(tempfile.mkdtemp(prefix='coseg-hostile-'))
        save_tiny_checkpoint(str(root), 'model.pth', config=str(TINY_CONFIG),
                             meta=dict(dataset_meta=dict(classes=CLASSES)))
        _world = root
    return _world


def run_tool(tool: str, *args: str, cwd: Path, prefix: Sequence[str] = ()
             ) -> subprocess.CompletedProcess:
    """``tools/<tool> args`` with this interpreter, stdout and stderr together."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    env.pop('COSEG_DEBUG', None)
    return subprocess.run([*prefix, sys.executable, str(REPO / 'tools' / tool), *args],
                          cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=TIMEOUT)


def one_line_refusal(result: subprocess.CompletedProcess, *, names: str,
                     marker: Optional[Path] = None, says: str = '') -> Tuple[bool, str]:
    """(handled, detail) for a run that should end in one ``error:`` line naming ``names``."""
    errors = [line for line in result.stdout.splitlines() if line.startswith('error:')]
    output = result.stdout.strip().splitlines()
    detail = errors[0] if errors else f'exit {result.returncode}: ' + (
        output[-1] if output else '(no output)')
    problems = []
    if result.returncode != 2:
        problems.append(f'exit status {result.returncode}')
    if len(errors) != 1:
        problems.append(f'{len(errors)} error lines')
    if 'Traceback' in result.stdout:
        problems.append('a traceback')
    if errors and names not in errors[0]:
        problems.append(f'the error does not name {names!r}')
    if errors and says and says not in errors[0]:
        problems.append(f'the error does not say {says!r}')
    if marker is not None and os.path.lexists(marker):
        problems.append(f'the payload ran ({marker.name} was written)')
    if problems:
        return False, '; '.join(problems) + f' -- {detail}'
    return True, detail


# ------------------------------------------------------------------ item 1: code execution
def export_code_running_checkpoint(scratch: Path) -> Tuple[bool, str]:
    import torch
    world = tiny_world()
    marker = scratch / 'ran'
    state_dict = torch.load(world / 'model.pth', weights_only=True)['state_dict']
    evil = crafted.code_running_checkpoint(scratch / 'evil.pth', marker, state_dict=state_dict,
                                           meta=dict(dataset_meta=dict(classes=CLASSES)))
    result = run_tool('export_onnx.py', str(TINY_CONFIG), str(evil), str(scratch / 'x.onnx'),
                      cwd=world)
    return one_line_refusal(result, names='evil.pth', marker=marker)


SWAP_AFTER_LOAD = """
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location('export_onnx', sys.argv[1])
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)
real = tool.init_model
def init_then_swap(*args, **kwargs):
    model = real(*args, **kwargs)
    os.replace(sys.argv[3], sys.argv[2])  # the checkpoint swapped after the safe load
    return model
tool.init_model = init_then_swap
tool.main([sys.argv[4], sys.argv[2], sys.argv[5], '--embeddings-only'])
print('default vocabulary:', tool.default_vocabulary(real(sys.argv[4], sys.argv[6]), sys.argv[2]))
"""


def export_checkpoint_swapped_after_load(scratch: Path) -> Tuple[bool, str]:
    world = tiny_world()
    marker = scratch / 'ran'
    shutil.copy(world / 'model.pth', scratch / 'model.pth')
    crafted.code_running_checkpoint(scratch / 'evil.pth', marker)
    result = subprocess.run(
        [sys.executable, '-c', SWAP_AFTER_LOAD, str(REPO / 'tools' / 'export_onnx.py'),
         str(scratch / 'model.pth'), str(scratch / 'evil.pth'), str(TINY_CONFIG),
         str(scratch / 'out.onnx'), str(world / 'model.pth')],
        cwd=world, env=dict(os.environ, PYTHONPATH=str(REPO)), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
    if os.path.lexists(marker):
        return False, 'the swapped-in checkpoint was unpickled: its payload ran'
    if result.returncode != 0:
        return False, f'exit {result.returncode}: {result.stdout.strip().splitlines()[-1:]}'
    line = [x for x in result.stdout.splitlines() if x.startswith('default vocabulary')]
    return True, f'payload not run; {line[0] if line else "exported"}'


# ------------------------------------------------- item 6: numpy values outside plain numbers
def tool_on_crafted_checkpoint(build: Callable[[Path], Path], says: str = ''
                               ) -> Callable[[Path], Tuple[bool, str]]:
    """A case: tools/test.py on the tiny config with the checkpoint ``build`` writes."""
    def run(scratch: Path) -> Tuple[bool, str]:
        world = tiny_world()
        path = build(scratch)
        result = run_tool('test.py', str(TINY_CONFIG), str(path), '--work-dir',
                          str(scratch / 'work'), cwd=world)
        return one_line_refusal(result, names=path.name, says=says)
    return run


# --------------------------------------------------- item 3: the frozen-weights reference
def with_reference(reference) -> Callable[[Path], Path]:
    return lambda scratch: crafted.with_reference(tiny_world() / 'model.pth',
                                                  scratch / 'crafted_reference.pth', reference)


def relative_clip_path_from_elsewhere(scratch: Path) -> Tuple[bool, str]:
    """A checkpoint that recorded data/tiny/clip relative (as before 25.9), loaded from a
    folder where that path does not exist: refused naming the working directory (it was tried
    as a hub repository id)."""
    path = crafted.with_reference(
        tiny_world() / 'model.pth', scratch / 'relative.pth',
        dict(type='CLIPPretrained', source='huggingface', checkpoint='data/tiny/clip'))
    (scratch / 'elsewhere').mkdir()
    result = run_tool('demo.py', str(tiny_world() / 'data' / 'tiny' / 'demo.jpg'), '--vocab',
                      'sky,sea', '--config', str(TINY_CONFIG), '--checkpoint', str(path),
                      '--out', str(scratch / 'demo.png'), cwd=scratch / 'elsewhere')
    return one_line_refusal(result, names='data/tiny/clip', says='relative to the working')


# ------------------------------------------------------------ item 8: one line, not a trace
def demo_empty_image(scratch: Path) -> Tuple[bool, str]:
    image = crafted.empty_file(scratch / 'empty.png')
    result = run_tool('demo.py', str(image), '--vocab', 'sky,sea', '--config', str(TINY_CONFIG),
                      '--checkpoint', str(tiny_world() / 'model.pth'), '--out',
                      str(scratch / 'demo.png'), cwd=tiny_world())
    return one_line_refusal(result, names='empty.png')


def train_read_only_work_dir(scratch: Path) -> Tuple[bool, str]:
    """--work-dir on a read-only file system (a private read-only tmpfs; a 0o555 folder when
    not root)."""
    work = scratch / 'read_only'
    work.mkdir()
    args = ('train.py', str(TINY_CONFIG), '--work-dir', str(work))
    if os.geteuid() != 0:
        work.chmod(0o555)
        return one_line_refusal(run_tool(*args, cwd=tiny_world()), names='read_only')
    if shutil.which('unshare') is None:
        return False, 'not built: running as root without unshare, no read-only folder'
    command = (f'mount -t tmpfs -o ro tmpfs {work} && cd {tiny_world()} && '
               f'PYTHONPATH={REPO} {sys.executable} {REPO / "tools" / args[0]} '
               + ' '.join(args[1:]))
    result = subprocess.run(['unshare', '-m', 'sh', '-c', command], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
    if 'mount:' in result.stdout and 'error:' not in result.stdout:
        return False, f'not built: {result.stdout.strip()[:200]}'
    return one_line_refusal(result, names='read_only', says='Read-only')


def resume_work_dir(scratch: Path, checkpoint: Optional[Path], last: str) -> Path:
    """A work dir as tools/train.py leaves one: ``last_checkpoint`` holding ``last``."""
    work = scratch / 'work'
    work.mkdir()
    if checkpoint is not None:
        shutil.copy(checkpoint, work / 'iter_1.pth')
    (work / 'last_checkpoint').write_text(last)
    return work


def resume_from_empty_last_checkpoint(scratch: Path) -> Tuple[bool, str]:
    work = resume_work_dir(scratch, None, '')
    result = run_tool('train.py', str(TINY_CONFIG), '--work-dir', str(work), '--resume',
                      cwd=tiny_world())
    return one_line_refusal(result, names='last_checkpoint', says='empty')


def resume_from_crafted_history_buffer(scratch: Path) -> Tuple[bool, str]:
    import numpy as np
    import torch
    from mmengine.logging.history_buffer import HistoryBuffer
    data = torch.load(tiny_world() / 'model.pth', weights_only=True)
    buffer = HistoryBuffer()
    buffer._log_history = np.array([[1.0, 2.0]])  # 2-D: LoggerHook's statistics fail on it
    buffer.max_length = 'many'
    data.update(meta=dict(data['meta'], iter=1, epoch=0), message_hub=dict(
        log_scalars={'train/loss': buffer}, runtime_info={}, resumed_keys={}))
    torch.save(data, scratch / 'crafted_hub.pth')
    work = resume_work_dir(scratch, scratch / 'crafted_hub.pth', '')
    (work / 'last_checkpoint').write_text(str(work / 'iter_1.pth'))
    result = run_tool('train.py', str(TINY_CONFIG), '--work-dir', str(work), '--resume',
                      cwd=tiny_world())
    return one_line_refusal(result, names='iter_1.pth', says='message_hub')


# --------------------------------------------------------------------- item 9: smaller
def demo_case_insensitive_duplicates(scratch: Path) -> Tuple[bool, str]:
    result = run_tool('demo.py', str(tiny_world() / 'data' / 'tiny' / 'demo.jpg'), '--vocab',
                      'Sky,sky,SKY', '--config', str(TINY_CONFIG), '--checkpoint',
                      str(tiny_world() / 'model.pth'), '--out', str(scratch / 'demo.png'),
                      cwd=tiny_world())
    return one_line_refusal(result, names='Sky', says='sky')


def demo_keeps_non_latin_names(scratch: Path) -> Tuple[bool, str]:
    """Emoji and CJK class names: out.json keeps them exactly (the legend draws what its font
    has, docs/troubleshooting.md)."""
    names = ['天空', 'grass', '🌊 sea']
    result = run_tool('demo.py', str(tiny_world() / 'data' / 'tiny' / 'demo.jpg'), '--vocab',
                      ','.join(names), '--config', str(TINY_CONFIG), '--checkpoint',
                      str(tiny_world() / 'model.pth'), '--out', str(scratch / 'demo.png'),
                      cwd=tiny_world())
    if result.returncode != 0:
        return False, f'exit {result.returncode}: {result.stdout.strip().splitlines()[-1:]}'
    with open(scratch / 'demo.json', encoding='utf-8') as f:
        legend = json.load(f)['legend']
    if legend != names:
        return False, f'out.json legend {legend} is not {names}'
    return True, f'legend kept: {legend}'


def checkpoint_file_mode(scratch: Path) -> Tuple[bool, str]:
    """A checkpoint written through the atomic backend gets the umask's mode (mkstemp's
    0600 made another user's tools/test.py fail on a shared work dir)."""
    code = ('import os, stat, coseg_mmseg; from coseg_mmseg.utils import write_atomically; '
            'os.umask(0o022); write_atomically(b"x", "ck.pth"); '
            'print(oct(stat.S_IMODE(os.stat("ck.pth").st_mode)))')
    result = subprocess.run([sys.executable, '-c', code], cwd=scratch,
                            env=dict(os.environ, PYTHONPATH=str(REPO)), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
    mode = result.stdout.strip().splitlines()[-1:] or ['?']
    return mode[0] == '0o644', f'mode {mode[0]} under umask 022 (expected 0o644)'


CASES: List[Case] = [
    Case('export_onnx: checkpoint whose pickle runs code', export_code_running_checkpoint),
    Case('export_onnx: checkpoint swapped after the safe load',
         export_checkpoint_swapped_after_load),
    Case('test.py: numpy dtype with a field at offset 2**40', tool_on_crafted_checkpoint(
        lambda s: crafted.structured_dtype_checkpoint(s / 'structured.pth'), 'numpy dtype')),
    Case('test.py: numpy dtype with a field at offset 8', tool_on_crafted_checkpoint(
        lambda s: crafted.structured_dtype_checkpoint(s / 'leak.pth', offset=8),
        'numpy dtype')),
    Case('test.py: numpy array of dtype object', tool_on_crafted_checkpoint(
        lambda s: crafted.object_dtype_checkpoint(s / 'object.pth'), 'numpy dtype')),
    Case("test.py: frozen reference of type 'Pretrained_Part'", tool_on_crafted_checkpoint(
        with_reference(dict(type='Pretrained_Part', checkpoint='data/tiny/clip')),
        'Pretrained_Part')),
    Case('test.py: frozen reference {}', tool_on_crafted_checkpoint(with_reference({}),
                                                                     'empty')),
    Case('test.py: frozen reference to /etc/passwd', tool_on_crafted_checkpoint(
        with_reference(dict(type='CLIPPretrained', source='converted',
                            checkpoint='/etc/passwd')), '/etc/passwd')),
    Case('test.py: frozen reference to /etc as a HuggingFace folder',
         tool_on_crafted_checkpoint(with_reference(dict(
             type='CLIPPretrained', source='huggingface', checkpoint='/etc')), 'config.json')),
    Case('demo.py: relative CLIP path from another folder', relative_clip_path_from_elsewhere),
    Case('test.py: checkpoint holding a list', tool_on_crafted_checkpoint(
        lambda s: crafted.list_checkpoint(s / 'list.pth'), 'list')),
    Case('test.py: checkpoint holding a bare tensor', tool_on_crafted_checkpoint(
        lambda s: crafted.tensor_checkpoint(s / 'tensor.pth'), 'Tensor')),
    Case("test.py: checkpoint zip with '../' member names", tool_on_crafted_checkpoint(
        lambda s: crafted.dot_dot_zip_checkpoint(s / 'dotdot.pth'))),
    Case('test.py: 0-byte checkpoint', tool_on_crafted_checkpoint(
        lambda s: crafted.empty_file(s / 'empty.pth'))),
    Case('demo.py: 0-byte image', demo_empty_image),
    Case('train.py: read-only work dir', train_read_only_work_dir),
    Case('train.py --resume: empty last_checkpoint', resume_from_empty_last_checkpoint),
    Case('train.py --resume: crafted HistoryBuffer', resume_from_crafted_history_buffer),
    Case('demo.py: "Sky,sky,SKY"', demo_case_insensitive_duplicates),
    Case('demo.py: emoji and CJK names kept in out.json', demo_keeps_non_latin_names),
    Case('checkpoint file mode follows the umask', checkpoint_file_mode),
]
