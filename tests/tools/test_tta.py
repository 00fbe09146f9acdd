"""tools/test.py --tta: runs on every evaluation config and keeps CoSeg's "no label" rule."""
import glob
import os

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from coseg_tools.generators import make_tiny_assets
from tests.helpers import REPO, TINY_CONFIG, run_tool
from tests.tools.test_errors import error_line, run_here

pytestmark = pytest.mark.slow  # starts the tools in subprocesses

# One view, exactly the tiny config's test pipeline: --tta must then give the plain result.
ONE_VIEW = f'''_base_ = [{TINY_CONFIG!r}]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale=(256, 64), keep_ratio=True)],
        [dict(type='LoadAnnotations')],
        [dict(type='PackSegInputs')]]),
]
'''
# Two views (as is and flipped) at the test scale: a real merge, in a few seconds.
TWO_VIEWS = ONE_VIEW.replace(
    "[dict(type='LoadAnnotations')]",
    "[dict(type='RandomFlip', prob=0., direction='horizontal'),\n"
    "         dict(type='RandomFlip', prob=1., direction='horizontal')],\n"
    "        [dict(type='LoadAnnotations')]")
# Inside the seeded random tiny model's range of best scores: some pixels get a label, most not.
THRESHOLD = ['--cfg-options', 'model.decode_head.mask_threshold=0.56']


def label_maps(folder) -> dict:
    return {os.path.basename(p): np.array(Image.open(p))
            for p in sorted(glob.glob(os.path.join(folder, '*.png')))}


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp('tta')
    make_tiny_assets(str(root / 'data' / 'tiny'))
    (root / 'one_view.py').write_text(ONE_VIEW)
    (root / 'two_views.py').write_text(TWO_VIEWS)
    return root


def test_one_view_tta_equals_the_plain_test_no_label_included(workspace):
    """Fails before CoSegTTAModel: mmseg's SegTTAModel argmaxes and drops "no label"."""
    plain = run_tool('test.py', str(workspace / 'one_view.py'), '--work-dir', 'w1', '--out',
                     'plain', *THRESHOLD, cwd=str(workspace))
    assert plain.returncode == 0, plain.stdout[-3000:]
    tta = run_tool('test.py', str(workspace / 'one_view.py'), '--tta', '--work-dir', 'w2',
                   '--out', 'tta', *THRESHOLD, cwd=str(workspace))
    assert tta.returncode == 0, tta.stdout[-3000:]
    plain_maps, tta_maps = label_maps(workspace / 'plain'), label_maps(workspace / 'tta')
    assert len(plain_maps) == 8 and plain_maps.keys() == tta_maps.keys()
    no_label = sum(int((m == 255).sum()) for m in plain_maps.values())
    total = sum(m.size for m in plain_maps.values())
    assert 0 < no_label < total  # the rule matters here: some pixels get no label, some do
    for name, labels in plain_maps.items():
        np.testing.assert_array_equal(tta_maps[name], labels, err_msg=name)


def test_two_view_tta_runs_on_the_tiny_config(workspace):
    result = run_tool('test.py', str(workspace / 'two_views.py'), '--tta', '--work-dir', 'w3',
                      cwd=str(workspace))
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'Iter(test) [8/8]' in result.stdout and 'mIoU' in result.stdout


def test_a_config_without_tta_pipeline_is_refused_in_one_line(workspace, monkeypatch, capsys):
    (workspace / 'no_tta.py').write_text(f'_base_ = [{TINY_CONFIG!r}]\ntta_pipeline = None\n')
    monkeypatch.chdir(workspace)
    line = error_line(*run_here('test.py', 'no_tta.py', '--tta', monkeypatch=monkeypatch,
                                capsys=capsys))
    assert line == ("error: --tta: no_tta.py has no tta_pipeline; add one (as mmseg's dataset "
                    'bases do, e.g. configs/_base_/datasets/coco_object.py) or run without --tta')


# Each dataset base with each test pipeline (CoSeg's 224 short side, the baseline's 352 x 352);
# the xatten and variant configs share them.
EVALUATION_CONFIGS = ['configs/coseg/coseg_prefix_cocostuff.py',
                      'configs/coseg/coseg_no-train_cocostuff.py'] + [
    f'configs/coseg/zero-shot/coseg_{model}_{data}.py' for model in ('prefix', 'no-train')
    for data in ('coco-object', 'pc459', 'pc59', 'voc20')]


@pytest.mark.parametrize('config', EVALUATION_CONFIGS)
def test_every_evaluation_config_has_a_matching_tta_pipeline(config):
    """Fails before: the COCO-Object and Pascal Context 459 configs had none."""
    cfg = Config.fromfile(os.path.join(REPO, config))
    test_steps = [s['type'] for s in cfg.test_dataloader.dataset.pipeline]
    assert cfg.get('tta_pipeline'), config
    tta_steps = [s['type'] for branch in cfg.tta_pipeline[-1]['transforms'] for s in branch]
    assert cfg.tta_pipeline[-1]['type'] == 'TestTimeAug'
    # The same annotation loader (16-bit maps need LoadUInt16Annotations) and packing.
    assert [s for s in tta_steps if 'Annotations' in s] == [
        s for s in test_steps if 'Annotations' in s]
    assert tta_steps[-1] == test_steps[-1] == 'PackSegInputs'
