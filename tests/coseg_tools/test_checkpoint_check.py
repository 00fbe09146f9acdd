"""explain_load_error: a strict-loading failure summarised in counts and the first keys."""
import pickle

import pytest
import torch
from mmengine.runner.checkpoint import load_state_dict
from torch import nn

from coseg_mmseg.utils import UserError
from coseg_tools.checkpoint_check import explain_load_error


def strict_load_error(model: nn.Module, state: dict) -> RuntimeError:
    with pytest.raises(RuntimeError) as error:
        load_state_dict(model, state, strict=True)  # mmengine's, as the runner calls it
    return error.value


def test_missing_unexpected_and_shape_mismatch_are_counted_and_named():
    model = nn.Sequential(*[nn.Linear(4, 4) for _ in range(5)])
    state = {f'{i}.weight': torch.zeros(4, 4) for i in range(5)}
    state['0.weight'] = torch.zeros(3, 4)
    state.update({'extra.a': torch.zeros(1), 'extra.b': torch.zeros(1)})
    error = explain_load_error(strict_load_error(model, state), 'c.pth', 'the Net of x.py')
    assert str(error) == (
        "checkpoint 'c.pth' does not fit the Net of x.py: 5 missing keys (0.bias, 1.bias, "
        "2.bias, ...), 2 unexpected keys (extra.a, extra.b), 1 shape mismatch (0.weight: "
        "checkpoint (3, 4), model (4, 4)); was it trained with this config?")


def test_unreadable_files_and_unrelated_errors():
    error = explain_load_error(pickle.UnpicklingError('Weights only load failed ... '
                                                      'WeightsUnpickler error: Unsupported '
                                                      'operand 103\n\nCheck the docs'),
                               'x.pth', 'CoSeg')
    assert "checkpoint 'x.pth' cannot be read (Unsupported operand 103)" in str(error)
    assert explain_load_error(ValueError('a bug'), 'x.pth', 'CoSeg') is None
    assert explain_load_error(RuntimeError('CUDA out of memory'), 'x.pth', 'CoSeg') is None


def test_a_refusal_does_not_advise_allow_listing_the_global():
    """torch appends 'Please use add_safe_globals(...) ... if you trust' to a refused global:
    a refusal of a hostile file must not tell the user how to let it run."""
    error = explain_load_error(pickle.UnpicklingError(
        'Weights only load failed.\nWeightsUnpickler error: Unsupported global: GLOBAL io.open '
        'was not an allowed global by default. Please use `torch.serialization.add_safe_globals'
        '([io.open])` or the `torch.serialization.safe_globals([io.open])` context manager to '
        'allowlist this global if you trust this class/function.\n\nCheck the docs'),
        'x.pth', 'CoSeg')
    assert '(Unsupported global: GLOBAL io.open was not an allowed global by default)' in str(
        error)
    assert 'add_safe_globals' not in str(error)


def test_an_error_raised_while_loading_names_the_checkpoint():
    """A frozen-weights reference is checked inside the state-dict load, which does not know
    the file: the tools' message names it (issue 25.3)."""
    inner = UserError("the checkpoint's frozen-weights reference of X ({}) is refused")
    error = explain_load_error(inner, 'runs/iter_9.pth', 'CoSeg')
    assert str(error) == f"checkpoint 'runs/iter_9.pth': {inner}"
    named = UserError("checkpoint 'runs/iter_9.pth' holds a list")
    assert str(explain_load_error(named, 'runs/iter_9.pth', 'CoSeg')) == str(named)
