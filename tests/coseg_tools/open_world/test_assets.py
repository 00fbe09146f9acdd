"""What tools/make_open_world_data.py writes: the layout, reuse, refusal of other arguments."""
import importlib.util
import json
import os
import sys

import cv2
import numpy as np
import pytest

from coseg_tools.cli import UserError
from coseg_tools.open_world import world
from coseg_tools.open_world.assets import make_open_world
from tests.helpers import REPO

TINY_CLIP = dict(steps=2, batch_size=8, pool_size=16, warmup=1, image_size=32)


@pytest.fixture(scope='module')
def tiny_world(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('open-world') / 'ow')
    make_open_world(out, split_seed=2, num_train=6, num_val=4, clip_args=TINY_CLIP,
                    log=lambda _: None)
    return out


def test_layout_on_disk(tiny_world):
    out = tiny_world
    for name in ('clip', 'clip_random_text'):
        for f in ('config.json', 'model.safetensors', 'vocab.json', 'merges.txt',
                  'coseg_world.json'):
            assert os.path.isfile(os.path.join(out, name, f)), (name, f)
    with open(os.path.join(out, 'scenes', 'split.json')) as f:
        split = json.load(f)
    assert split == world.make_split(2, 0.25)
    assert set(split) == {'classes', 'stuff', 'things', 'seen', 'unseen', 'split_seed',
                          'unseen_fraction'}
    unseen = {split['classes'].index(c) for c in split['unseen']}
    for part, count in (('train', 6), ('val_unseen', 4), ('val_mixed', 4)):
        names = sorted(os.listdir(os.path.join(out, 'scenes', 'img_dir', part)))
        assert names == [f'{i:05d}.png' for i in range(count)]
        for name in names:
            image = cv2.imread(os.path.join(out, 'scenes', 'img_dir', part, name))
            label = cv2.imread(os.path.join(out, 'scenes', 'ann_dir', part, name),
                               cv2.IMREAD_UNCHANGED)
            assert image.shape == (128, 128, 3) and label.shape == (128, 128)
            assert label.dtype == np.uint8
            present = set(np.unique(label).tolist()) - {255}
            assert present and max(present) < len(split['classes'])
            if part == 'train':
                assert not present & unseen
            elif part == 'val_unseen':
                assert present <= unseen
            else:
                assert present & unseen and present - unseen


def test_reuses_what_matches_and_refuses_the_rest(tiny_world):
    out = tiny_world
    stamp = os.path.getmtime(os.path.join(out, 'clip', 'model.safetensors'))
    logs = []
    make_open_world(out, split_seed=2, num_train=6, num_val=4, clip_args=TINY_CLIP,
                    log=logs.append)
    assert any('reusing' in line and 'clip' in line for line in logs)
    assert os.path.getmtime(os.path.join(out, 'clip', 'model.safetensors')) == stamp
    with pytest.raises(UserError, match='scenes of another split.*--force'):
        make_open_world(out, split_seed=3, num_train=6, num_val=4, clip_args=TINY_CLIP,
                        log=logs.append)
    with pytest.raises(UserError, match=r'clip holds a CLIP made with other arguments.*--force'):
        make_open_world(out, clip_seed=1, split_seed=2, num_train=6, num_val=4,
                        clip_args=TINY_CLIP, log=logs.append)
    # another split with --force: scenes rebuilt, the CLIP (split-independent) kept
    make_open_world(out, split_seed=3, num_train=6, num_val=4, clip_args=TINY_CLIP,
                    force=True, log=logs.append)
    with open(os.path.join(out, 'scenes', 'split.json')) as f:
        assert json.load(f)['split_seed'] == 3
    assert os.path.getmtime(os.path.join(out, 'clip', 'model.safetensors')) == stamp


def load_tool():
    path = os.path.join(REPO, 'tools', 'make_open_world_data.py')
    spec = importlib.util.spec_from_file_location('make_open_world_data_tool', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


@pytest.mark.parametrize('extra, clip_args', [([], None), (['--clip-steps', '7'], dict(steps=7))])
def test_tool_passes_the_clip_steps(tmp_path, monkeypatch, extra, clip_args):
    import coseg_tools.open_world.assets as assets
    calls = []
    monkeypatch.setattr(assets, 'make_open_world', lambda out, **kw: calls.append(kw) or {})
    monkeypatch.setattr(sys, 'argv', ['make_open_world_data.py', '--out', str(tmp_path), *extra])
    load_tool().main()
    assert calls[0]['clip_args'] == clip_args


def test_tool_says_one_line_for_a_bad_fraction(tmp_path, monkeypatch, capsys):
    tool = load_tool()
    from coseg_tools.cli import run_tool
    argv = ['make_open_world_data.py', '--out', str(tmp_path / 'x'), '--unseen-fraction', '1.5']
    monkeypatch.setattr(sys, 'argv', argv)
    with pytest.raises(SystemExit) as exit_info:
        run_tool(tool.main, argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ['error: unseen_fraction must be in (0, 1), got 1.5']
    assert not os.path.exists(tmp_path / 'x')
