import os
import stat

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


@pytest.mark.parametrize('umask, mode', [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_get_the_umask_mode(tmp_path, umask, mode):
    """mkstemp makes its file 0600: checkpoints were unreadable to a group sharing the work
    dir (issue 25.9); now they get the mode open() would give them."""
    old = os.umask(umask)
    try:
        write_atomically(b'weights', tmp_path / 'iter_1.pth')
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / 'iter_1.pth').st_mode) == mode
