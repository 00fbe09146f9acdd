"""How the plugin's command-line tools answer a user's mistake: one line, exit status 2.

Every tool's ``if __name__ == '__main__'`` calls :func:`run_tool` on its ``main``. A mistake
the user can fix — a missing or undecodable file, a missing dataset folder, a bad vocabulary,
a checkpoint that does not fit, a config key that does not exist — ends the tool with ONE line
on stderr::

    error: <what is wrong, naming the file/key/value>; <how to fix it>

and exit status 2 (argparse's status for a bad command line). Anything else is a bug and keeps
its traceback (exit status 1). ``--debug`` (on any tool) or ``COSEG_DEBUG=1`` shows the
traceback of user errors too.

What counts as a user error:

- :class:`~coseg_mmseg.utils.errors.UserError`, raised by the tools and the plugin where the
  cause is known;
- ``FileNotFoundError``, ``NotADirectoryError``, ``IsADirectoryError`` and
  ``PermissionError``: the file named in them is the user's.

Other exceptions (``ValueError`` included: the library also raises it for its own bugs) are
turned into a :class:`UserError` where a tool knows the cause — e.g. around parsing ``--vocab``.
"""
import os
import sys
import traceback
from typing import Callable, NoReturn, Optional

from coseg_mmseg.utils.errors import UserError

DEBUG_FLAG = '--debug'
DEBUG_ENV = 'COSEG_DEBUG'
EXIT_USER_ERROR = 2
USER_ERROR_TYPES = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)


def debug_enabled() -> bool:
    """True when tracebacks were asked for (``--debug`` or ``COSEG_DEBUG`` set, not ``0``)."""
    return os.environ.get(DEBUG_ENV, '') not in ('', '0')


def add_debug_argument(parser) -> None:
    """List ``--debug`` in a tool's ``--help`` (:func:`run_tool` consumes the flag itself)."""
    parser.add_argument(DEBUG_FLAG, action='store_true',
                        help=f'show the traceback of errors (or set {DEBUG_ENV}=1)')


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a mistake of the user's (see the module docstring)."""
    return isinstance(exc, (UserError, ) + USER_ERROR_TYPES)


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (``OSError`` with its file name, if it has one)."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        text = f'{exc.filename!r}: {exc.strerror}'  # e.g. '[Errno 2] No such file or directory'
    elif isinstance(exc, KeyError) and len(exc.args) == 1:
        text = str(exc.args[0])  # str(KeyError) adds quotes
    else:
        text = str(exc) or type(exc).__name__
    if 'Original Traceback' in text:  # re-raised from a DataLoader worker: its last line
        lines = [line for line in text.splitlines() if line.strip()]
        text = lines[-1].split(': ', 1)[-1]
    return ' '.join(text.split())


def run_tool(main: Callable[[], Optional[int]], argv: Optional[list] = None) -> NoReturn:
    """Run a tool's ``main`` and exit: status 2 and one ``error:`` line for a user error.

    Args:
        main: The tool's entry point; it parses ``sys.argv`` itself.
        argv: The command line to act on (default ``sys.argv``); ``--debug`` is removed from
            it (and ``COSEG_DEBUG=1`` set, so that worker processes inherit it).
    """
    argv = sys.argv if argv is None else argv
    if DEBUG_FLAG in argv[1:]:
        while DEBUG_FLAG in argv[1:]:
            argv.remove(DEBUG_FLAG)
        os.environ[DEBUG_ENV] = '1'
    try:
        status = main()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001  (the one place exceptions meet the user)
        if not is_user_error(exc):
            raise
        if debug_enabled():
            traceback.print_exc()
        print(f'error: {one_line(exc)}', file=sys.stderr, flush=True)
        sys.exit(EXIT_USER_ERROR)
    sys.exit(status or 0)
