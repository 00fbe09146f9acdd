"""The hostile-input sweep: what a careless user or an attacker sends, and whether it is handled.

Each module of this package (but those whose name starts with ``_``) exposes
``CASES: list[Case]``. A :class:`Case` builds its input in a scratch folder it is given
(crafted files on disk, subprocess runs of the tools, requests to a running server) and says
whether the project handled it: refused in one line, exit status 2, no traceback, nothing run
or leaked. ``tools/hostile_input_sweep.py`` runs them all and prints "N tried, M handled".
"""
from pathlib import Path
from typing import Callable, NamedTuple, Tuple


class Case(NamedTuple):
    """One hostile input.

    Attributes:
        name: What is sent, in a few words (unique within the sweep).
        run: Builds and sends it in the scratch folder given; returns (handled, detail), the
            detail saying what happened (the error line, or what went wrong).
    """
    name: str
    run: Callable[[Path], Tuple[bool, str]]
