"""Each CoSeg-Xatten config composes the one xatten model base and differs from its CoSeg-Prefix
sibling in the neck only (issue 19, point 6)."""
import ast
import glob
import os

import pytest
from mmengine.config import Config

from tests.helpers import REPO

XATTEN_BASE = 'configs/_base_/models/coseg_xatten_vit-b16.py'
XATTEN = sorted(
    os.path.relpath(p, REPO)
    for p in glob.glob(os.path.join(REPO, 'configs/coseg/**/coseg_xatten_*.py'), recursive=True)
    if '_tiny' not in p)


def _bases(path: str) -> list:
    """The `_base_` files a config inherits, directly or not, relative to the repository root."""
    tree = ast.parse(open(os.path.join(REPO, path)).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == '_base_':
            names = ast.literal_eval(node.value)
            names = [names] if isinstance(names, str) else names
            direct = [os.path.relpath(os.path.join(REPO, os.path.dirname(path), n), REPO)
                      for n in names if '::' not in n]
            return direct + [b for d in direct for b in _bases(d)]
    return []


def _sets_the_neck(path: str) -> bool:
    """Whether the config file itself writes ``model = dict(neck=...)``."""
    tree = ast.parse(open(os.path.join(REPO, path)).read())
    return any(isinstance(node, ast.Assign) and node.targets[0].id == 'model'
               and isinstance(node.value, ast.Call)
               and any(k.arg == 'neck' for k in node.value.keywords) for node in tree.body)


def _without_neck(cfg: Config) -> dict:
    d = cfg.to_dict()
    d['model'].pop('neck')
    return d


def test_xatten_configs_are_found():
    assert 'configs/coseg/coseg_xatten_cocostuff.py' in XATTEN
    assert 'configs/coseg/zero-shot/coseg_xatten_pc459.py' in XATTEN
    assert 'configs/coseg/coseg_xatten_1xb64-bf16_cocostuff.py' in XATTEN
    assert len(XATTEN) >= 9  # 3 COCO-Stuff + VOC-20, PC-59, PC-459, COCO-Object, A-150, A-847


# The authors'-recipe configs (issue 15) set the neck themselves (learned positions, which the
# xatten model base does not have): only their neck-only difference is checked below. The
# convergence and open-world configs are tiny ones.
@pytest.mark.parametrize('path', [p for p in XATTEN if '_authors-recipe_' not in p
                                  and '/convergence/' not in p and '/open_world/' not in p])
def test_xatten_config_inherits_the_xatten_model_base(path):
    assert XATTEN_BASE in _bases(path), f'{path} does not inherit {XATTEN_BASE}'
    assert not _sets_the_neck(path), f'{path} overrides the neck instead of using {XATTEN_BASE}'
    neck = Config.fromfile(os.path.join(REPO, path)).model.neck
    assert neck == Config.fromfile(os.path.join(REPO, XATTEN_BASE)).model.neck
    assert neck.mode == 'xatten' and neck.encoder_depth == 4 and neck.decoder_depth == 4


@pytest.mark.parametrize('path', XATTEN)
def test_xatten_config_differs_from_prefix_in_the_neck_only(path):
    xatten = Config.fromfile(os.path.join(REPO, path))
    prefix = Config.fromfile(os.path.join(REPO, path.replace('coseg_xatten_', 'coseg_prefix_')))
    assert _without_neck(xatten) == _without_neck(prefix)
    assert prefix.model.neck.mode == 'prefix' and xatten.model.neck.mode == 'xatten'
