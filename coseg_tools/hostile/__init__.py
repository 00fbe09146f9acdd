"""The hostile-input sweep: what a careless user or an attacker sends, and whether it is handled.

Each module of this package (but those whose name starts with ``_``) exposes
``CASES: list[Case]``. A :class:`Case` builds its input in a scratch folder it is given
(crafted files on disk, subprocess runs of the tools, requests to a running server) and says
whether the project handled it: refused in one line, exit status 2, no traceback, nothing run
or leaked. ``tools/hostile_input_sweep.py`` runs them all and prints "N tried, M handled".
"""
import importlib
import pkgutil
import tempfile
from pathlib import Path
from typing import Callable, Iterable, List, NamedTuple, Tuple


class Case(NamedTuple):
    """One hostile input.

    Attributes:
        name: What is sent, in a few words (unique within the sweep).
        run: Builds and sends it in the scratch folder given; returns (handled, detail), the
            detail saying what happened (the error line, or what went wrong).
    """
    name: str
    run: Callable[[Path], Tuple[bool, str]]


class Outcome(NamedTuple):
    """What one case gave: its module, name, whether it was handled, and the detail."""
    module: str
    name: str
    handled: bool
    detail: str


def collect_cases(only: str = '') -> List[Tuple[str, Case]]:
    """(module name, case) for every case of every module of this package, in module order;
    ``only`` keeps the cases whose module or name holds it."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith('_'):
            continue
        module = importlib.import_module(f'{__name__}.{info.name}')
        for case in getattr(module, 'CASES', []):
            if only in info.name or only in case.name:
                found.append((info.name, case))
    return found


def run_cases(cases: Iterable[Tuple[str, Case]],
              report: Callable[[Outcome], None] = lambda outcome: None) -> List[Outcome]:
    """Run each case in a fresh scratch folder; a case that raises counts as not handled."""
    outcomes = []
    for module, case in cases:
        with tempfile.TemporaryDirectory(prefix='coseg-hostile-case-') as scratch:
            try:
                handled, detail = case.run(Path(scratch))
            except Exception as exc:  # noqa: BLE001  (a crashing case is a finding, not a stop)
                handled, detail = False, f'the case itself failed: {type(exc).__name__}: {exc}'
        outcome = Outcome(module, case.name, bool(handled), ' '.join(str(detail).split()))
        report(outcome)
        outcomes.append(outcome)
    return outcomes
