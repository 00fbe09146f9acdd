"""AtomicCheckpointHook: a training process SIGKILLed in the middle of a checkpoint save can be
resumed, and what the killed save left is cleaned at the next start."""
import os
import re
import signal
import subprocess
import sys

import pytest
import torch

from coseg_tools.generators import make_tiny_assets
from tests.helpers import REPO, TINY_CONFIG

# Imported by every Python process started with this folder first on PYTHONPATH: the process
# SIGKILLs itself when it fsyncs the COSEG_KILL_NTH-th temporary file of COSEG_KILL_AT (a
# checkpoint's or last_checkpoint's name), i.e. with that file written but not yet renamed to
# its name. Deterministic, and a real kill.
KILLER = '''
import os, signal
_fsync, _seen = os.fsync, []
def fsync(fd):
    target = os.environ.get('COSEG_KILL_AT')
    if target:
        name = os.path.basename(os.readlink(f'/proc/self/fd/{fd}'))
        if name.startswith('.' + target) and name.endswith('.tmp'):
            _seen.append(name)
            if len(_seen) == int(os.environ.get('COSEG_KILL_NTH', '1')):
                os.kill(os.getpid(), signal.SIGKILL)
    return _fsync(fd)
os.fsync = fsync
'''
SHORT = ['train_cfg.max_iters=3', 'default_hooks.checkpoint.interval=1',
         'train_cfg.val_interval=1000', 'default_hooks.logger.interval=1']


def train(root, work_dir, *args, kill_at=None, nth=1, hook=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(root / 'killer'), REPO, os.environ.get('PYTHONPATH', '')]), OMP_NUM_THREADS='1')
    if kill_at:
        env.update(COSEG_KILL_AT=kill_at, COSEG_KILL_NTH=str(nth))
    options = SHORT + ([f'default_hooks.checkpoint.type={hook}'] if hook else [])
    return subprocess.run(
        [sys.executable, os.path.join(REPO, 'tools', 'train.py'), TINY_CONFIG, '--work-dir',
         work_dir, *args, '--cfg-options', *options], cwd=str(root), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)


def last_checkpoint(work_dir):
    with open(os.path.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def leftovers(work_dir):
    return sorted(f for _, _, files in os.walk(work_dir) for f in files if f.endswith('.tmp'))


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp('kill')
    make_tiny_assets(str(root / 'data' / 'tiny'))
    (root / 'killer').mkdir()
    (root / 'killer' / 'sitecustomize.py').write_text(KILLER)
    return root


@pytest.mark.slow
def test_mmengines_hook_loses_the_run_at_this_kill(root):
    """The control: with mmengine's CheckpointHook the same kill (during iter_2's write, with
    max_keep_ckpts=1) leaves last_checkpoint naming iter_1.pth, already deleted."""
    work_dir = str(root / 'mmengine')
    killed = train(root, work_dir, kill_at='iter_2.pth', hook='CheckpointHook')
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-3000:]
    assert last_checkpoint(work_dir).endswith('iter_1.pth')
    assert not os.path.exists(last_checkpoint(work_dir))


@pytest.mark.slow
def test_killed_during_a_save_resumes_and_finishes(root):
    work_dir = str(root / 'ours')
    killed = train(root, work_dir, kill_at='iter_2.pth')
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-3000:]
    # The kill came with iter_2 written to its temporary file, not published.
    assert [f for f in leftovers(work_dir) if f.startswith('.iter_2.pth')], os.listdir(work_dir)
    assert last_checkpoint(work_dir).endswith('iter_1.pth')
    assert os.path.isfile(last_checkpoint(work_dir))  # complete: the previous one is kept
    assert torch.load(last_checkpoint(work_dir), map_location='cpu',
                      weights_only=False)['meta']['iter'] == 1

    resumed = train(root, work_dir, '--resume')
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert re.search(r'resumed .*iter_1\.pth', resumed.stdout, re.I) or \
        'Iter(train) [2/3]' in resumed.stdout, resumed.stdout[-3000:]
    assert 'Iter(train) [1/3]' not in resumed.stdout  # continued, not restarted
    assert leftovers(work_dir) == []  # the killed save's temporary is gone
    assert sorted(f for f in os.listdir(work_dir) if f.endswith('.pth')) == ['iter_3.pth']
    assert last_checkpoint(work_dir).endswith('iter_3.pth')


@pytest.mark.slow
def test_killed_after_publishing_prunes_on_resume(root):
    """Killed while writing last_checkpoint after iter_2 was published: last_checkpoint still
    names iter_1, not yet pruned; the resumed run keeps only the newest, as configured."""
    work_dir = str(root / 'late')
    killed = train(root, work_dir, kill_at='last_checkpoint', nth=2)
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-3000:]
    files = sorted(f for f in os.listdir(work_dir) if f.endswith('.pth'))
    assert files == ['iter_1.pth', 'iter_2.pth'], files
    assert last_checkpoint(work_dir).endswith('iter_1.pth')
    assert [f for f in leftovers(work_dir) if f.startswith('.last_checkpoint')]
    resumed = train(root, work_dir, '--resume')
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert leftovers(work_dir) == []
    assert sorted(f for f in os.listdir(work_dir) if f.endswith('.pth')) == ['iter_3.pth']
