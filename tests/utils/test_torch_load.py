"""mmengine checkpoints load under torch's weights-only unpickler; crafted ones are refused."""
import io
import os
import pickle
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging import history_buffer
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint
from torch import nn
from torch.utils.data import Dataset

from coseg_mmseg.utils import UserError, allow_mmengine_checkpoint_types
from coseg_mmseg.utils.torch_load import load_plain_pickle
from coseg_tools.hostile._crafted import (_WritesMarker, object_dtype_checkpoint,
                                          structured_dtype_checkpoint)
from tests.helpers import REPO

allow_mmengine_checkpoint_types()  # as `import coseg_mmseg` does


class ToyModel(BaseModel):
    """y = w . x + b, trained with an MSE loss."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        out = self.linear(inputs).squeeze(-1)
        if mode == 'loss':
            return dict(loss=((out - targets)**2).mean())
        return out


class ToyDataset(Dataset):
    """Four samples; numpy values in the metainfo, which the checkpoint's meta copies."""

    metainfo = dict(classes=('a', 'b'), palette=np.array([[1, 2, 3], [4, 5, 6]], np.uint8),
                    weight=np.float32(0.5), count=np.int64(7))

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> dict:
        return dict(inputs=torch.tensor([float(i), 1.0]), targets=torch.tensor(float(i)))


def toy_runner(work_dir: str, **kwargs) -> Runner:
    return Runner(
        model=ToyModel(), work_dir=work_dir,
        train_dataloader=dict(dataset=ToyDataset(), batch_size=2, collate_fn=dict(
            type='default_collate'), sampler=dict(type='DefaultSampler', shuffle=False)),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.01)),
        param_scheduler=[dict(type='CosineAnnealingLR', T_max=4, by_epoch=False)],
        train_cfg=dict(by_epoch=False, max_iters=2),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
        default_scope='mmseg',  # a Runner makes its scope current: keep the tests' scope
        **kwargs)


@pytest.fixture(scope='module')
def mmengine_checkpoint(tmp_path_factory):
    """A checkpoint written by mmengine's CheckpointHook, numpy scalars in meta and the hub."""
    work_dir = str(tmp_path_factory.mktemp('toy'))
    runner = toy_runner(work_dir)
    runner.message_hub.update_info('best_score', np.float64(0.25))
    runner.message_hub.update_scalar('val/mIoU', np.float64(12.5))
    runner.train()
    return work_dir, f'{work_dir}/iter_2.pth'


def test_real_checkpoint_loads_through_mmengine(mmengine_checkpoint):
    _, path = mmengine_checkpoint
    model = ToyModel()
    checkpoint = load_checkpoint(model, path, map_location='cpu')  # torch.load, weights-only
    meta = checkpoint['meta']
    assert meta['iter'] == 2
    assert meta['dataset_meta']['weight'] == np.float32(0.5)
    assert meta['dataset_meta']['count'] == np.int64(7)
    np.testing.assert_array_equal(meta['dataset_meta']['palette'], [[1, 2, 3], [4, 5, 6]])
    hub = checkpoint['message_hub']
    assert hub['runtime_info']['best_score'] == np.float64(0.25)
    buffer = hub['log_scalars']['val/mIoU']
    assert isinstance(buffer, HistoryBuffer) and buffer.current() == 12.5
    assert buffer._statistics_methods['mean'] is HistoryBuffer.mean
    torch.testing.assert_close(model.linear.weight, checkpoint['state_dict']['linear.weight'])


def test_real_checkpoint_resumes(mmengine_checkpoint):
    """What ``tools/train.py --resume`` does: the latest checkpoint of the work dir."""
    work_dir, path = mmengine_checkpoint
    runner = toy_runner(work_dir, resume=True)
    runner.train()  # resumes at iteration 2 of 2: nothing left to train
    assert runner.iter == 2
    assert runner.message_hub.get_info('best_score') == 0.25
    assert runner.message_hub.get_scalar('val/mIoU').current() == 12.5
    saved = torch.load(path, map_location='cpu')['state_dict']
    torch.testing.assert_close(runner.model.linear.bias, saved['linear.bias'])


def as_checkpoint(pickled: bytes, path) -> str:
    """Wrap a pickle into torch.save's zip layout, as a checkpoint file would carry it."""
    template = io.BytesIO()
    torch.save({}, template)
    source = zipfile.ZipFile(io.BytesIO(template.getvalue()))
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as out:
        for info in source.infolist():
            out.writestr(info.filename, pickled if info.filename.endswith('data.pkl')
                         else source.read(info.filename))
    return str(path)


MARKER = '_coseg_crafted_checkpoint_was_here'


def global_pickle(module: str, name: str) -> bytes:
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def text_pickle(text: str) -> bytes:
    data = text.encode()
    return b'X' + len(data).to_bytes(4, 'little') + data


# Hand-written protocol-2 opcodes: getattr(HistoryBuffer, 'min') (what a real checkpoint
# does), then getattr(<that function>, '__globals__') -> history_buffer's module dict, then
# SETITEM a new global into it.
WALK_TO_GLOBALS = (
    b'\x80\x02' + global_pickle('__builtin__', 'getattr')
    + global_pickle('__builtin__', 'getattr') + global_pickle(
        'mmengine.logging.history_buffer', 'HistoryBuffer') + text_pickle('min')
    + b'\x86R'  # TUPLE2, REDUCE -> HistoryBuffer.min
    + text_pickle('__globals__') + b'\x86R'  # -> history_buffer.__dict__
    + text_pickle(MARKER) + text_pickle('pwned') + b's.')  # SETITEM, STOP


class WalkToGlobals:
    """The same walk through ``__reduce__``: pickle writes getattr(getattr(HistoryBuffer,
    'min'), '__globals__') and a SETITEMS into the result."""

    def __reduce__(self):
        return getattr, (HistoryBuffer.min, '__globals__'), None, None, iter([(MARKER, 1)])


def assert_refused(path: str) -> None:
    try:
        with pytest.raises(pickle.UnpicklingError, match='getattr|Unsupported global'):
            torch.load(path, map_location='cpu')
        with pytest.raises(UserError, match='getattr'):  # coseg_mmseg's loader: one line
            load_checkpoint(ToyModel(), path, map_location='cpu')
        assert MARKER not in vars(history_buffer)
    finally:
        vars(history_buffer).pop(MARKER, None)


def test_hand_written_getattr_walk_to_module_globals_is_refused(tmp_path):
    assert_refused(as_checkpoint(WALK_TO_GLOBALS, tmp_path / 'walk.pth'))


def test_reduce_crafted_getattr_walk_is_refused(tmp_path):
    path = tmp_path / 'walk_reduce.pth'
    torch.save(dict(state_dict={}, meta=WalkToGlobals()), path)
    assert_refused(str(path))


@pytest.mark.parametrize('owner, name', [
    (('mmengine.logging.history_buffer', 'HistoryBuffer'), '__init__'),
    (('mmengine.logging.history_buffer', 'HistoryBuffer'), '__class__'),
    (('numpy', 'ndarray'), 'mean'),
])
def test_getattr_outside_history_buffer_statistics_is_refused(tmp_path, owner, name):
    pickled = (b'\x80\x02' + global_pickle('__builtin__', 'getattr') + global_pickle(*owner)
               + text_pickle(name) + b'\x86R.')
    path = as_checkpoint(pickled, tmp_path / 'other.pth')
    with pytest.raises(pickle.UnpicklingError, match=f'getattr.*{name}'):
        torch.load(path, map_location='cpu')


def test_call_outside_the_list_is_refused(tmp_path):
    pickled = (b'\x80\x02' + global_pickle('builtins', 'print') + text_pickle('hello')
               + b'\x85R.')  # TUPLE1, REDUCE
    with pytest.raises(pickle.UnpicklingError, match='GLOBAL print was not an allowed global'):
        torch.load(as_checkpoint(pickled, tmp_path / 'print.pth'), map_location='cpu')


# ----------------------------------------------------------- numpy values (issue 25.6)
STRUCTURED_LOAD = """
import pickle, sys
import coseg_mmseg, torch
for path in sys.argv[1:]:
    try:
        meta = torch.load(path, map_location='cpu')['meta']
    except pickle.UnpicklingError as exc:
        print('refused:', ' '.join(str(exc).split()))
        continue
    print('loaded', meta['palette']['x'])
"""


@pytest.mark.slow
def test_structured_dtype_at_any_offset_is_refused_without_a_crash(tmp_path):
    """A dtype 'f8' whose pickled state adds a field past its 8-byte item: reading it leaked
    memory (offset 8) or segfaulted (2**40). Loaded in a subprocess so that a crash fails
    this test instead of ending pytest."""
    paths = [str(structured_dtype_checkpoint(tmp_path / f'at_{offset}.pth', offset=offset))
             for offset in (8, 1 << 40)]
    result = subprocess.run([sys.executable, '-c', STRUCTURED_LOAD, *paths], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith('refused:') and "numpy dtype 'f8'" in line
                                   for line in lines), result.stdout[-2000:]


def test_object_dtype_and_other_numpy_names_are_refused(tmp_path):
    with pytest.raises(pickle.UnpicklingError, match="numpy dtype 'O8'"):
        torch.load(object_dtype_checkpoint(tmp_path / 'object.pth'), map_location='cpu')
    path = tmp_path / 'void.pth'
    torch.save(dict(meta=dict(x=np.zeros(2, dtype=[('a', 'f4'), ('b', 'i4')]))), path)
    with pytest.raises(pickle.UnpicklingError, match="numpy dtype 'V8'"):
        torch.load(path, map_location='cpu')
    pickled = (b'\x80\x02' + global_pickle('numpy', 'ndarray') + text_pickle('x')
               + b'\x85R.')  # numpy.ndarray('x'): not how numpy pickles arrays
    with pytest.raises(pickle.UnpicklingError, match='ndarray called directly'):
        torch.load(as_checkpoint(pickled, tmp_path / 'direct.pth'), map_location='cpu')


def test_plain_numpy_values_load_as_they_were_saved(tmp_path):
    values = dict(f16=np.float16(1.5), i8=np.int64(-3), u1=np.uint8(200), b=np.bool_(True),
                  grid=np.arange(12, dtype=np.float32).reshape(3, 4),
                  fortran=np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
                  empty=np.zeros((0, 5), np.uint16))
    torch.save(values, tmp_path / 'plain.pth')
    loaded = torch.load(tmp_path / 'plain.pth', map_location='cpu')
    for key, value in values.items():
        assert loaded[key].dtype == value.dtype and np.array_equal(loaded[key], value), key
        assert np.shape(loaded[key]) == np.shape(value)
    assert type(loaded['i8']) is np.int64
    assert loaded['fortran'].flags.f_contiguous
    # An array read from a checkpoint saves as a plain ndarray: no plugin name in the file.
    buffer = io.BytesIO()
    pickle.dump(loaded['grid'], buffer, protocol=2)
    assert b'coseg' not in buffer.getvalue()
    assert type(pickle.loads(buffer.getvalue())) is np.ndarray


def test_load_plain_pickle_reads_data_and_runs_nothing(tmp_path):
    data = dict(folder=['a', 'b'], presence=np.arange(4, dtype=np.int64), n=3)
    got = load_plain_pickle(io.BytesIO(pickle.dumps(data, protocol=4)))
    assert got['folder'] == ['a', 'b'] and got['n'] == 3
    np.testing.assert_array_equal(got['presence'], np.arange(4))
    marker = tmp_path / 'ran'
    payload = pickle.dumps(dict(folder=_WritesMarker(str(marker))))
    with pytest.raises(pickle.UnpicklingError, match='names the global (io|builtins).open'):
        load_plain_pickle(io.BytesIO(payload))
    assert not marker.exists()


# ------------------------------------------------- no unrestricted unpickling (issue 25.1)
UNPICKLING = re.compile(r'weights_only\s*=\s*False|pickle\.loads?\(|allow_pickle\s*=\s*True'
                        r'|Unpickler\(|torch\.load\((?![^\n]*\n?[^\n]*weights_only\s*=\s*True)')
# The one restricted reader; it names pickle.Unpickler to subclass it.
RESTRICTED = {os.path.join('coseg_mmseg', 'utils', 'torch_load.py')}


def test_no_source_unpickles_outside_the_allow_list():
    """Every torch.load of the project says weights_only=True; nothing calls pickle.load,
    np.load(allow_pickle=True) or weights_only=False (a source scan, beside the behavioural
    tests of tools/export_onnx.py and of the checkpoint loader)."""
    found = []
    for top in ('coseg_mmseg', 'coseg_tools', 'tools', 'scripts'):
        for root, _, files in os.walk(os.path.join(REPO, top)):
            for name in files:
                if not name.endswith(('.py', '.sh')):
                    continue
                path = os.path.join(root, name)
                rel = os.path.relpath(path, REPO)
                with open(path, encoding='utf-8') as f:
                    text = f.read()
                for match in UNPICKLING.finditer(text):
                    if rel in RESTRICTED and match[0] == 'Unpickler(':
                        continue
                    line = text.count('\n', 0, match.start()) + 1
                    found.append(f'{rel}:{line}: {match[0]}')
    assert not found, found
