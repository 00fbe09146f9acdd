"""The local checkpoint loader: crafted files are refused in one line naming them (issue 25.8)."""
import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from coseg_mmseg.utils import UserError
from coseg_mmseg.utils.checkpoint_loader import load_local_checkpoint
from coseg_tools.hostile import _crafted as crafted


def test_registered_as_mmengines_loader_of_local_files():
    assert CheckpointLoader._get_checkpoint_loader('/some/iter_1.pth') is load_local_checkpoint


@pytest.mark.parametrize('build, message', [
    (crafted.list_checkpoint, 'holds a list, not a dict'),
    (crafted.tensor_checkpoint, 'holds a Tensor, not a dict'),
    (crafted.dot_dot_zip_checkpoint, 'cannot be read'),
    (crafted.empty_file, 'cannot be read \\(the file ends early\\)'),
    (lambda p: torch.save(dict(state_dict=[torch.zeros(1)]), p), "holds a list as 'state_dict'"),
    (lambda p: torch.save(dict(state_dict=dict(w=3)), p), "holds 'w': int in 'state_dict'"),
    (lambda p: torch.save(dict(state_dict={}, meta=[1]), p), "holds a list as 'meta'"),
])
def test_a_file_that_is_no_checkpoint_is_one_line(tmp_path, build, message):
    path = tmp_path / 'crafted.pth'
    build(path)
    with pytest.raises(UserError, match=message) as error:
        CheckpointLoader.load_checkpoint(str(path))  # what every mmengine load goes through
    assert str(path) in str(error.value) and '\n' not in str(error.value)


def history_buffer(**fields) -> HistoryBuffer:
    buffer = HistoryBuffer()
    vars(buffer).update(fields)
    return buffer


@pytest.mark.parametrize('buffer, message', [
    (history_buffer(max_length='many'), "max_length='many'"),
    (history_buffer(_log_history=np.array([[1.0, 2.0]])), '_log_history = a 2-D float64 array'),
    (history_buffer(_count_history='abc'), '_count_history = str'),
    (history_buffer(extra=1), 'HistoryBuffer with the fields'),
    ('not a buffer', 'holds a str as'),
])
def test_a_crafted_message_hub_is_refused_before_resume_reads_it(tmp_path, buffer, message):
    """mmengine's LoggerHook failed on such buffers with a TypeError at the first log line."""
    path = tmp_path / 'hub.pth'
    torch.save(dict(state_dict={}, message_hub=dict(log_scalars={'loss': buffer},
                                                    runtime_info={}, resumed_keys={})), path)
    with pytest.raises(UserError, match=message):
        load_local_checkpoint(str(path))


def test_a_real_history_buffer_and_a_bare_state_dict_load(tmp_path):
    buffer = HistoryBuffer()
    buffer.update(0.5)
    torch.save(dict(state_dict=dict(w=torch.ones(2)), meta=dict(iter=3),
                    message_hub=dict(log_scalars={'loss': buffer}, runtime_info={},
                                     resumed_keys={})), tmp_path / 'real.pth')
    loaded = load_local_checkpoint(str(tmp_path / 'real.pth'))
    assert loaded['message_hub']['log_scalars']['loss'].current() == 0.5
    torch.save(dict(w=torch.ones(2)), tmp_path / 'bare.pth')
    assert torch.equal(load_local_checkpoint(str(tmp_path / 'bare.pth'))['w'], torch.ones(2))


def test_an_empty_path_says_last_checkpoint_not_can_not_be_found():
    """An empty last_checkpoint made mmengine say 'error:  can not be found.'."""
    with pytest.raises(UserError, match="last_checkpoint file is empty"):
        CheckpointLoader.load_checkpoint('')
