"""explain_load_error: a strict-loading failure summarised in counts and the first keys."""
import pickle

import pytest
import torch
from mmengine.runner.checkpoint import load_state_dict
from torch import nn

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
