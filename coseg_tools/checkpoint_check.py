"""Say in one line why a checkpoint could not be loaded: missing, unreadable or not fitting.

mmengine's strict loading raises a ``RuntimeError`` listing every key that differs — for a
checkpoint of another architecture, thousands of characters. :func:`explain_load_error` turns
it (and the errors of an unreadable file) into a :class:`~coseg_mmseg.utils.errors.UserError`
that counts the differences and names the first few.
"""
import os
import pickle
import re
from typing import List, Optional, Tuple

from coseg_mmseg.utils.errors import UserError

SHOWN = 3  # keys named per kind of difference

# mmengine 0.10 (runner/checkpoint.py, load_state_dict) and torch (Module._load_from_state_dict).
_UNEXPECTED = re.compile(r'unexpected key in source state_dict: (.*)')
_MISSING = re.compile(r'missing keys in source state_dict: (.*)')
_SHAPE = re.compile(r'size mismatch for ([^:\s]+): copying a param with shape '
                    r'torch\.Size\(\[([\d, ]*)\]\) from checkpoint, the shape in current model '
                    r'is torch\.Size\(\[([\d, ]*)\]\)')


def check_checkpoint_file(checkpoint: str) -> None:
    """Refuse a checkpoint path that is not a file, before anything is built.

    Raises:
        UserError: Naming the path.
    """
    if os.path.isdir(checkpoint):
        raise UserError(f'checkpoint {checkpoint!r} is a folder; give a .pth file in it '
                        f'(e.g. {os.path.join(checkpoint, "iter_N.pth")})')
    if not os.path.isfile(checkpoint):
        raise UserError(f'checkpoint {checkpoint!r} does not exist (working directory: '
                        f'{os.getcwd()}); give the .pth file tools/train.py wrote in its work dir')


def mismatch_lists(message: str) -> Tuple[List[str], List[str], List[str]]:
    """Missing keys, unexpected keys and ``'key: checkpoint (shape), model (shape)'`` entries
    named in a strict-loading error message of mmengine/torch."""
    missing: List[str] = []
    unexpected: List[str] = []
    for line in message.splitlines():
        for pattern, into in ((_MISSING, missing), (_UNEXPECTED, unexpected)):
            match = pattern.search(line)
            if match:
                into.extend(k.strip() for k in match[1].split(',') if k.strip())
    shapes = [f'{m[1]}: checkpoint ({m[2]}), model ({m[3]})' for m in _SHAPE.finditer(message)]
    return missing, unexpected, shapes


def summarize_mismatch(checkpoint: str, model_name: str, message: str) -> Optional[str]:
    """One line: counts and the first keys of each kind; None if ``message`` names none."""
    missing, unexpected, shapes = mismatch_lists(message)
    if not (missing or unexpected or shapes):
        return None
    parts = []
    for count, label, keys in ((len(missing), 'missing key', missing),
                               (len(unexpected), 'unexpected key', unexpected),
                               (len(shapes), 'shape mismatch', shapes)):
        if count:
            plural = 'es' if label.endswith('h') else 's'
            shown = ', '.join(keys[:SHOWN]) + (', ...' if count > SHOWN else '')
            parts.append(f'{count} {label}{plural if count > 1 else ""} ({shown})')
    return (f'checkpoint {checkpoint!r} does not fit {model_name}: {", ".join(parts)}; was it '
            f'trained with this config?')


def explain_load_error(exc: BaseException, checkpoint: str,
                       model_name: str) -> Optional[UserError]:
    """A :class:`UserError` for an exception raised while loading ``checkpoint``, if it is one.

    Args:
        exc: What loading raised.
        checkpoint: The checkpoint file.
        model_name: What it was loaded into, for the message (``'CoSeg of configs/x.py'``).

    Returns:
        The error to raise instead (``raise ... from exc``), or None for an unrelated exception.
    """
    text = str(exc)
    if isinstance(exc, UserError):  # raised while loading (a refused frozen-weights reference)
        return UserError(text if checkpoint in text else f'checkpoint {checkpoint!r}: {text}')
    if isinstance(exc, RuntimeError):
        summary = summarize_mismatch(checkpoint, model_name, text)
        if summary is not None:
            return UserError(summary)
    if isinstance(exc, (pickle.UnpicklingError, EOFError)) or (
            isinstance(exc, RuntimeError) and ('PytorchStreamReader' in text
                                                or 'zip archive' in text)):
        detail = re.search(r'WeightsUnpickler error: (.+?)(?:\n\n|$)', text, re.S)
        reason = ' '.join((detail[1] if detail else text.splitlines()[0] if text else
                           'the file ends early').split())
        # torch's advice to allow-list the global "if you trust" the file: not for a refusal
        reason = re.sub(r'\s*Please use `torch\.serialization\.add_safe_globals.*', '',
                        reason).rstrip('.')
        return UserError(f'checkpoint {checkpoint!r} cannot be read ({reason}): it is not a '
                         f'PyTorch checkpoint, is truncated, or holds objects outside the '
                         f'weights-only allow-list; use a .pth file written by tools/train.py')
    return None
