"""Check a tool's work dir before a run starts, so that an unwritable one is one line."""
import os
import tempfile

from coseg_mmseg.utils import UserError


def check_work_dir(work_dir: str, option: str = '--work-dir') -> None:
    """Create ``work_dir`` if needed and write a file in it, or raise naming it.

    mmengine creates the work dir and its log folder inside the Runner; on a read-only disk
    that is a bare ``OSError: [Errno 30] Read-only file system`` traceback (only
    ``PermissionError`` was reported as a user's mistake).

    Raises:
        UserError: Naming the folder, the system's reason and ``option`` to change it.
    """
    try:
        os.makedirs(work_dir, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=work_dir, prefix='.coseg-write-check-'):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserError(f'work dir {work_dir!r} cannot be written ({reason}); give a '
                        f'writable folder with {option} DIR') from exc
