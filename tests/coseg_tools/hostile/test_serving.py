"""The serving half's sweep cases: well formed, and the fast ones (caches, the API) handled.
The web, demo and kill cases are the slow tests of tests/tools/test_web_demo.py and
tests/engine/hooks/test_atomic_checkpoint_hook.py, run here only by the sweep."""
import pytest

from coseg_tools.hostile.serving import CASES

FAST = [case for case in CASES if case.name.startswith(('text-embedding', 'feature', 'segment'))]


def test_cases_are_named_once():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)) and len(FAST) == 8
    assert all(callable(case.run) for case in CASES)


@pytest.mark.parametrize('case', FAST, ids=[case.name for case in FAST])
def test_fast_cases_are_handled(case, tmp_path):
    handled, detail = case.run(tmp_path)
    assert handled, detail
