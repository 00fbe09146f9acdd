"""AtomicLocalBackend: mmengine's local file backend, but writes never leave a partial file.

mmengine saves a checkpoint with ``open(path, 'wb').write(...)``: a crash, a full disk or a
killed job mid-write leaves a truncated ``iter_N.pth`` (and ``last_checkpoint`` pointing at it),
so ``--resume`` fails and the work is lost. Here every write goes to a temporary file in the
same folder, is flushed to disk, and replaces the target in one ``os.replace``.

Selected in configs with ``default_hooks.checkpoint.backend_args=dict(backend='atomic_local')``.
"""
import os
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(data: bytes, path: Union[str, Path]) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path), suffix='.tmp')
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600, as open() would have made it
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """Local storage whose ``put``/``put_text`` are atomic."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        write_atomically(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        write_atomically(obj.encode(encoding), filepath)
