"""Distributed runs (torchrun, gloo on CPU) and exact resume, through the repository's tools."""
import os
import re
import socket
import subprocess
import sys

import pytest
import torch

from coseg_tools.generators import make_tiny_assets
from tests.helpers import REPO, TINY_CONFIG, run_tool

pytestmark = pytest.mark.slow  # starts the tools in subprocesses

SHORT = ['train_cfg.val_interval=1000', 'randomness.deterministic=True']


def free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def run_dist(script: str, *args: str, cwd: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port(), OMP_NUM_THREADS='1')
    return subprocess.run(['bash', os.path.join(REPO, 'tools', script), *args], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600)


def miou(output: str) -> float:
    match = re.search(r'Iter\(test\).*mIoU: ([\d.]+)', output)
    assert match, output[-3000:]
    return float(match[1])


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    """Tiny assets and a tiny checkpoint trained for 20 iterations."""
    root = tmp_path_factory.mktemp('dist')
    make_tiny_assets(str(root / 'data' / 'tiny'))
    train = run_tool('train.py', TINY_CONFIG, '--work-dir', 'base', '--cfg-options',
                     'train_cfg.max_iters=20', 'default_hooks.checkpoint.interval=20', *SHORT,
                     cwd=str(root))
    assert train.returncode == 0, train.stdout[-3000:]
    return root


def test_two_process_test_equals_one_process(workspace):
    checkpoint = str(workspace / 'base' / 'iter_20.pth')
    single = run_tool('test.py', TINY_CONFIG, checkpoint, '--work-dir', 't1', cwd=str(workspace))
    assert single.returncode == 0, single.stdout[-3000:]
    double = run_dist('dist_test.sh', TINY_CONFIG, checkpoint, '2', '--work-dir', 't2',
                      cwd=str(workspace))
    assert double.returncode == 0, double.stdout[-3000:]
    # 8 images: one process runs all 8, each of the two processes 4.
    assert 'Iter(test) [8/8]' in single.stdout and 'Iter(test) [4/4]' in double.stdout
    assert miou(double.stdout) == miou(single.stdout)


def test_two_process_training_writes_one_checkpoint(workspace):
    result = run_dist('dist_train.sh', TINY_CONFIG, '2', '--work-dir', 'd2', '--cfg-options',
                      'train_cfg.max_iters=4', 'default_hooks.checkpoint.interval=4', *SHORT,
                      cwd=str(workspace))
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'terminate called' not in result.stdout
    assert sorted(f for f in os.listdir(workspace / 'd2') if f.endswith('.pth')) == \
        ['iter_4.pth']


def test_resume_reaches_the_same_weights(workspace):
    def train(work_dir: str, max_iters: int, *extra: str):
        result = run_tool('train.py', TINY_CONFIG, '--work-dir', work_dir, *extra,
                          '--cfg-options', f'train_cfg.max_iters={max_iters}',
                          'default_hooks.checkpoint.interval=3',
                          'default_hooks.checkpoint.max_keep_ckpts=3', *SHORT, cwd=str(workspace))
        assert result.returncode == 0, result.stdout[-3000:]

    train('straight', 6)
    train('stopped', 3)
    train('stopped', 6, '--resume')
    a = torch.load(workspace / 'straight' / 'iter_6.pth', weights_only=True)
    b = torch.load(workspace / 'stopped' / 'iter_6.pth', weights_only=True)
    assert a['meta']['iter'] == b['meta']['iter'] == 6
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key in a['state_dict']:
        assert torch.equal(a['state_dict'][key], b['state_dict'][key]), key
    first_a = torch.load(workspace / 'straight' / 'iter_3.pth', weights_only=True)
    assert any(not torch.equal(first_a['state_dict'][k], a['state_dict'][k])
               for k in a['state_dict'])  # training moved the weights between 3 and 6
    exp_a = a['optimizer']['state']
    exp_b = b['optimizer']['state']
    for index in exp_a:
        assert torch.equal(exp_a[index]['exp_avg'], exp_b[index]['exp_avg'])
