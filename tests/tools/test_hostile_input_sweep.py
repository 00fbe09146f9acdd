"""tools/hostile_input_sweep.py and the loading half's cases (issue 25)."""
import pytest

from coseg_tools.hostile import Case, collect_cases, run_cases
from coseg_tools.hostile import loading


def test_the_runner_counts_handled_unhandled_and_crashing_cases():
    seen = []

    def handled(scratch):
        (scratch / 'built').write_text('x')  # each case gets a writable scratch folder
        seen.append(scratch)
        return True, 'error: refused'

    def crashes(scratch):
        raise RuntimeError('boom')

    outcomes = run_cases([('m', Case('ok', handled)), ('m', Case('bad', crashes))])
    assert [(o.name, o.handled) for o in outcomes] == [('ok', True), ('bad', False)]
    assert outcomes[1].detail == 'the case itself failed: RuntimeError: boom'
    assert not seen[0].exists()  # scratch folders are removed


def test_every_module_with_cases_is_collected_with_unique_names():
    cases = collect_cases()
    names = [case.name for _, case in cases]
    assert len(names) == len(set(names))
    assert {module for module, _ in cases} >= {'loading'}
    assert [case.name for _, case in collect_cases('0-byte')] == [
        'test.py: 0-byte checkpoint', 'demo.py: 0-byte image']


# The cases whose fix is in a tool's own code (the others are covered by tests beside the
# module they exercise: utils/test_checkpoint_loader.py, utils/test_torch_load.py,
# models/utils/test_frozen_weights.py, tools/test_export_onnx.py).
TOOL_CASES = ('demo.py: 0-byte image', 'train.py: read-only work dir',
              'train.py --resume: empty last_checkpoint',
              'train.py --resume: crafted HistoryBuffer', 'demo.py: "Sky,sky,SKY"')


@pytest.mark.slow
@pytest.mark.parametrize('name', TOOL_CASES)
def test_tool_case_is_handled(name, tmp_path):
    case = {case.name: case for case in loading.CASES}[name]
    handled, detail = case.run(tmp_path)
    if detail.startswith('not built'):
        pytest.skip(detail)
    assert handled, detail
