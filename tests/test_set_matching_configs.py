"""The shipped set-matching configs set what the convergence benchmark's set-matching configs
set (issue 27.2), and a checkpoint trained with them loads into the zero-shot test configs."""
import os

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from tests.helpers import REPO, TINY_CONFIG, flat

NECKS = ('prefix', 'xatten')


def difference(config: str, base: str) -> dict:
    """What ``config`` sets that ``base`` does not (or sets otherwise), by value."""
    a = flat(Config.fromfile(os.path.join(REPO, config)).to_dict())
    b = flat(Config.fromfile(os.path.join(REPO, base)).to_dict())
    assert not set(b) - set(a), f'{config} drops {sorted(set(b) - set(a))}'
    return {k: v for k, v in a.items() if k not in b or b[k] != v}


@pytest.mark.parametrize('neck', NECKS)
def test_shipped_set_matching_changes_what_the_convergence_one_changes(neck):
    shipped = difference(f'configs/coseg/coseg_{neck}_set-matching_cocostuff.py',
                         f'configs/coseg/coseg_{neck}_cocostuff.py')
    benchmark = difference(f'configs/coseg/convergence/coseg_{neck}_set-matching_convergence.py',
                           f'configs/coseg/convergence/coseg_{neck}_convergence.py')
    costs = [dict(type='MaskBCECost', weight=1.0),
             dict(type='DiceCost', weight=1.0, pred_act=True, eps=0.0),
             dict(type='NamingCost', weight=1.0)]
    assert shipped == benchmark == {
        'model.decode_head.train_cfg.assigner.type': 'SetMatchingAssigner',
        'model.decode_head.train_cfg.assigner.match_costs': costs,
        # the piece's helper key (configs/_base_/models/coseg_set-matching.py)
        'set_matching_train_cfg.assigner.type': 'SetMatchingAssigner',
        'set_matching_train_cfg.assigner.match_costs': costs}
    assert Config.fromfile(os.path.join(REPO, f'configs/coseg/coseg_{neck}_cocostuff.py')
                           ).model.decode_head.train_cfg == dict(
                               assigner=dict(type='AreaRankedAssigner'))


def test_set_matching_trains_other_weights_not_other_modules():
    """The zero-shot configs need no set-matching twin: the same state-dict keys and shapes."""
    def state(assigner: str) -> dict:
        cfg = Config.fromfile(TINY_CONFIG)
        cfg.model.decode_head.train_cfg = dict(assigner=dict(type=assigner))
        for part in ('backbone', 'text_encoder'):
            cfg.model[part].init_cfg = None
        torch.manual_seed(0)
        return {k: v.shape for k, v in MODELS.build(cfg.model).state_dict().items()}

    assert state('SetMatchingAssigner') == state('AreaRankedAssigner')
