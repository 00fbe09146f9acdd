"""mmengine checkpoints load under torch's weights-only unpickler; crafted ones are refused."""
import io
import pickle
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

from coseg_mmseg.utils import allow_mmengine_checkpoint_types

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
        with pytest.raises(pickle.UnpicklingError):
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
