"""mmengine's loader of local checkpoint files, replaced: weights-only, and the file checked.

mmengine reads a local checkpoint with a bare ``torch.load`` (its ``load_from_local``) and
hands whatever comes out to the model: a ``.pth`` holding a list or a bare tensor then fails deep
in mmengine with an ``AttributeError``, a crafted message-hub buffer with a ``TypeError`` in
the ``LoggerHook`` at the first log line of a ``--resume``, and an empty ``last_checkpoint``
file gives ``' can not be found.'``. :func:`load_local_checkpoint`, registered for local paths
(``CheckpointLoader.register_scheme(prefixes='', force=True)`` on ``import coseg_mmseg``), is
the one path by which the plugin's tools, mmseg's ``init_model`` and mmengine's Runner read a
local checkpoint: ``torch.load(weights_only=True)`` (the allow-list of
:mod:`.torch_load`), then :func:`check_checkpoint_layout`. Each refusal is a
:class:`~.cli.UserError` naming the file.
"""
import os
import re
from typing import Any, Mapping, Optional

import numpy as np
import torch
from mmengine.runner.checkpoint import CheckpointLoader

from .errors import UserError

HISTORY_BUFFER_FIELDS = {'max_length', '_log_history', '_count_history'}
MESSAGE_HUB_FIELDS = ('log_scalars', 'runtime_info', 'resumed_keys')


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f'a {value.ndim}-D {value.dtype} array'
    return type(value).__name__


def _bad(checkpoint: str, what: str) -> UserError:
    return UserError(f'checkpoint {checkpoint!r} {what}; it is not a checkpoint written by '
                     f'tools/train.py (mmengine): use an iter_N.pth / epoch_N.pth file of a '
                     f'work dir')


def _check_state_dict(state_dict: Any, checkpoint: str, where: str) -> None:
    if not isinstance(state_dict, Mapping):
        raise _bad(checkpoint, f'holds a {_kind(state_dict)} as {where}, not a dict of tensors')
    for key, value in state_dict.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise _bad(checkpoint, f'holds {key!r}: {_kind(value)} in {where}; only '
                       f'name: tensor entries belong there')


def _check_history_buffer(name: str, buffer: Any, checkpoint: str) -> None:
    from mmengine.logging.history_buffer import HistoryBuffer
    where = f"message_hub['log_scalars'][{name!r}]"
    if not isinstance(buffer, HistoryBuffer):
        raise _bad(checkpoint, f'holds a {_kind(buffer)} as {where}')
    fields = vars(buffer)
    if set(fields) != HISTORY_BUFFER_FIELDS:
        raise _bad(checkpoint, f'holds a HistoryBuffer with the fields {sorted(fields)} as '
                   f'{where} (mmengine writes {sorted(HISTORY_BUFFER_FIELDS)})')
    length = fields['max_length']
    logs, counts = fields['_log_history'], fields['_count_history']
    if type(length) is not int or length < 1:
        raise _bad(checkpoint, f'holds max_length={length!r} in {where}')
    for label, array in (('_log_history', logs), ('_count_history', counts)):
        if not isinstance(array, np.ndarray) or array.ndim != 1 or \
                array.dtype.kind not in 'biuf' or len(array) > length:
            raise _bad(checkpoint, f'holds {label} = {_kind(array)} in {where} (mmengine '
                       f'writes a 1-D numeric array of at most max_length values)')
    if len(logs) != len(counts):
        raise _bad(checkpoint, f'holds {len(logs)} values and {len(counts)} counts in {where}')


def _check_message_hub(hub: Any, checkpoint: str) -> None:
    if not isinstance(hub, Mapping) or not set(hub) <= set(MESSAGE_HUB_FIELDS) or not all(
            isinstance(hub.get(k, {}), Mapping) for k in MESSAGE_HUB_FIELDS):
        raise _bad(checkpoint, f'holds a message_hub that is not mmengine\'s (a dict of '
                   f'{", ".join(MESSAGE_HUB_FIELDS)} dicts)')
    for name, buffer in hub.get('log_scalars', {}).items():
        _check_history_buffer(name, buffer, checkpoint)


def check_checkpoint_layout(checkpoint: Any, filename: str) -> None:
    """Refuse what an mmengine checkpoint (or a bare state dict) never holds.

    Checked: a dict; its ``state_dict`` (or the dict itself when it has none) maps names to
    tensors; ``meta`` is a dict; ``message_hub`` is mmengine's (``HistoryBuffer`` s whose
    fields are 1-D numeric arrays and a positive ``max_length``).

    Raises:
        UserError: Naming the file and what it holds.
    """
    if not isinstance(checkpoint, Mapping):
        raise _bad(filename, f'holds a {_kind(checkpoint)}, not a dict')
    if 'state_dict' in checkpoint:
        _check_state_dict(checkpoint['state_dict'], filename, "'state_dict'")
    else:
        _check_state_dict(checkpoint, filename, 'the file (a bare state dict)')
    if not isinstance(checkpoint.get('meta', {}), (Mapping, type(None))):
        raise _bad(filename, f"holds a {_kind(checkpoint['meta'])} as 'meta', not a dict")
    if 'message_hub' in checkpoint:
        _check_message_hub(checkpoint['message_hub'], filename)


def load_local_checkpoint(filename: str, map_location: Optional[Any] = None) -> dict:
    """Read a local checkpoint file under the weights-only allow-list and check its layout.

    Args:
        filename: The file; ``~`` is expanded.
        map_location: As :func:`torch.load`'s.

    Raises:
        UserError: An empty path (an empty ``last_checkpoint`` file), a missing file or a
            folder, a file that is no checkpoint or holds objects outside the allow-list, or
            one of the layouts :func:`check_checkpoint_layout` refuses.
    """
    if not isinstance(filename, str) or not filename.strip():
        raise UserError(f'checkpoint path {filename!r} is empty: with --resume, the work '
                        f"dir's last_checkpoint file is empty (a save was interrupted); write "
                        f'the path of a complete iter_N.pth into it, or delete it to start over')
    filename = os.path.expanduser(filename)
    if os.path.isdir(filename):
        raise UserError(f'checkpoint {filename!r} is a folder; give a .pth file in it '
                        f'(e.g. {os.path.join(filename, "iter_N.pth")})')
    if not os.path.isfile(filename):
        raise UserError(f'checkpoint {filename!r} does not exist (working directory: '
                        f'{os.getcwd()}); give the .pth file tools/train.py wrote in its work dir')
    try:
        checkpoint = torch.load(filename, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001  (a file that is no checkpoint, or is refused)
        if isinstance(exc, OSError):
            raise  # a permission or disk error, named by the OSError itself
        raise unreadable(filename, exc) from exc
    check_checkpoint_layout(checkpoint, filename)
    return checkpoint


def unreadable(filename: str, exc: BaseException) -> UserError:
    """One line for a file ``torch.load`` could not read or refused: the unpickler's own
    reason, without torch's advice to allow-list a refused global "if you trust" the file."""
    text = str(exc)
    detail = re.search(r'WeightsUnpickler error: (.+?)(?:\n\n|$)', text, re.S)
    reason = ' '.join((detail[1] if detail else text.splitlines()[0] if text else
                       'the file ends early').split())
    reason = re.sub(r'\s*Please use `torch\.serialization\.add_safe_globals.*', '',
                    reason).rstrip('.')
    if detail is None and not isinstance(exc, EOFError):
        reason = f'{type(exc).__name__}: {reason}'
    return UserError(f'checkpoint {filename!r} cannot be read ({reason}): it is not a file '
                     f'torch.save wrote, is truncated, or holds objects outside the '
                     f'weights-only allow-list (SECURITY.md); use a .pth file written by '
                     f'tools/train.py')


def register_checkpoint_loader() -> None:
    """Make :func:`load_local_checkpoint` mmengine's loader of local paths."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
