import os

import pytest
from mmengine.fileio import get_file_backend

from coseg_mmseg.utils import AtomicLocalBackend, write_atomically


def test_selected_by_name_and_writes(tmp_path):
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'weights', str(tmp_path / 'sub' / 'iter_1.pth'))
    backend.put_text('iter_1.pth', str(tmp_path / 'last_checkpoint'))
    assert (tmp_path / 'sub' / 'iter_1.pth').read_bytes() == b'weights'
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_1.pth'


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / 'iter_2.pth'
    target.write_bytes(b'good checkpoint')

    def disk_full(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', disk_full)
    with pytest.raises(OSError, match='No space left'):
        write_atomically(b'half of a new one', target)
    assert target.read_bytes() == b'good checkpoint'
    assert os.listdir(tmp_path) == ['iter_2.pth']  # no temporary file left behind
