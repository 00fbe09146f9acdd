"""tools/slurm_train.sh and tools/slurm_test.sh through fake ``srun`` / ``scontrol`` executables.

Slurm cannot run here, so the test puts on PATH an ``srun`` that does what a real one does for a
one-node step: it starts ``--ntasks`` copies of the command with the ``SLURM_*`` variables slurm
gives each task (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NODELIST, ...) and fails when a
task fails; and an ``scontrol`` whose ``show hostname`` expands the node list. The tools then
come up through ``--launcher slurm`` as two gloo processes.
"""
import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import REPO, TINY_CONFIG, run_tool
# workspace: the same module-scoped fixture as the torchrun tests (a fixture imported is used).
from tests.tools.test_distributed_and_resume import SHORT, free_port, miou, workspace  # noqa: F401

FAKE_SRUN = '''\
#!{python}
"""A one-node srun: start --ntasks copies of the command with slurm's per-task variables."""
import json, os, subprocess, sys

args = sys.argv[1:]
options = {{}}
while args and args[0].startswith('-'):
    option = args.pop(0)
    if '=' in option:
        key, value = option.split('=', 1)
    elif option in ('-p', '--partition', '-J', '--job-name', '-n', '--ntasks'):
        key, value = option, args.pop(0)
    else:
        key, value = option, ''
    options[key] = value
with open(os.environ['FAKE_SRUN_LOG'], 'a') as log:
    log.write(json.dumps(dict(options=options, command=args)) + '\\n')
ntasks = int(options['--ntasks'])
per_node = int(options['--ntasks-per-node'])
assert ntasks <= per_node, 'this fake srun runs one node'
tasks = []
for rank in range(ntasks):
    env = dict(os.environ, SLURM_PROCID=str(rank), SLURM_LOCALID=str(rank), SLURM_NODEID='0',
               SLURM_NTASKS=str(ntasks), SLURM_NPROCS=str(ntasks), SLURM_NNODES='1',
               SLURM_NTASKS_PER_NODE=str(per_node), SLURM_NODELIST='localhost',
               SLURM_JOB_NODELIST='localhost', SLURMD_NODENAME='localhost',
               SLURM_JOB_ID='4242', SLURM_JOBID='4242', SLURM_STEP_ID='0',
               SLURM_JOB_NAME=options['--job-name'], SLURM_JOB_PARTITION=options['-p'],
               SLURM_CPUS_PER_TASK=options['--cpus-per-task'])
    tasks.append(subprocess.Popen(args, env=env))
codes = [task.wait() for task in tasks]
sys.exit(max(codes, key=abs))
'''

FAKE_SCONTROL = '''\
#!{python}
"""scontrol show hostname NODELIST, for plain comma-separated node lists."""
import os, sys

assert sys.argv[1:3] == ['show', 'hostname'], sys.argv
with open(os.environ['FAKE_SRUN_LOG'], 'a') as log:
    log.write('scontrol ' + ' '.join(sys.argv[1:]) + '\\n')
print('\\n'.join(sys.argv[3].split(',')))
'''


def write_executable(path: str, text: str) -> None:
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text).format(python=sys.executable))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


@pytest.fixture(scope='module')
def cluster(workspace):
    """The torchrun tests' workspace (tiny assets, a checkpoint trained for 20 iterations) and
    a PATH with srun / scontrol."""
    bin_dir = workspace / 'bin'
    bin_dir.mkdir()
    write_executable(str(bin_dir / 'srun'), FAKE_SRUN)
    write_executable(str(bin_dir / 'scontrol'), FAKE_SCONTROL)
    return workspace


def run_slurm(root, script: str, *args: str) -> subprocess.CompletedProcess:
    log = root / f'{script}.log'
    env = dict(os.environ, PATH=f'{root / "bin"}{os.pathsep}{os.environ["PATH"]}',
               PYTHON=sys.executable, GPUS='2', GPUS_PER_NODE='2', CPUS_PER_TASK='1',
               MASTER_PORT=free_port(), OMP_NUM_THREADS='1', FAKE_SRUN_LOG=str(log))
    env = {k: v for k, v in env.items() if not k.startswith('SLURM_')
           and k not in ('MASTER_ADDR', 'RANK', 'WORLD_SIZE', 'LOCAL_RANK')}
    return subprocess.run(['bash', os.path.join(REPO, 'tools', script), *args], cwd=str(root),
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600)


def read_log(root, script: str):
    with open(root / f'{script}.log') as f:
        lines = f.read().splitlines()
    return json.loads(lines[0]), lines[1:]


@pytest.mark.slow
def test_two_task_slurm_test_equals_one_process(cluster):
    checkpoint = str(cluster / 'base' / 'iter_20.pth')
    single = run_tool('test.py', TINY_CONFIG, checkpoint, '--work-dir', 't1', cwd=str(cluster))
    assert single.returncode == 0, single.stdout[-3000:]
    double = run_slurm(cluster, 'slurm_test.sh', 'gpu', 'coseg-test', TINY_CONFIG, checkpoint,
                       '--work-dir', 't2')
    assert double.returncode == 0, double.stdout[-3000:]
    srun, scontrol = read_log(cluster, 'slurm_test.sh')
    assert srun['options'] == {'-p': 'gpu', '--job-name': 'coseg-test', '--gres': 'gpu:2',
                               '--ntasks': '2', '--ntasks-per-node': '2', '--cpus-per-task': '1',
                               '--kill-on-bad-exit': '1'}
    assert srun['command'][2:] == [os.path.join(REPO, 'tools', 'test.py'), TINY_CONFIG,
                                   checkpoint, '--launcher=slurm', '--work-dir', 't2']
    # each task asked scontrol for the master's address, as mmengine's slurm launcher does
    assert scontrol == ['scontrol show hostname localhost'] * 2
    # 8 images: one process runs all 8, each of the two tasks 4.
    assert 'Iter(test) [8/8]' in single.stdout and 'Iter(test) [4/4]' in double.stdout
    assert miou(double.stdout) == miou(single.stdout)


@pytest.mark.slow
def test_two_task_slurm_training_writes_one_checkpoint(cluster):
    result = run_slurm(cluster, 'slurm_train.sh', 'gpu', 'coseg-train', TINY_CONFIG, 'd2',
                       '--cfg-options', 'train_cfg.max_iters=4',
                       'default_hooks.checkpoint.interval=4', *SHORT)
    assert result.returncode == 0, result.stdout[-3000:]
    srun, _ = read_log(cluster, 'slurm_train.sh')
    assert srun['command'][2:5] == [os.path.join(REPO, 'tools', 'train.py'), TINY_CONFIG,
                                    '--work-dir=d2']
    assert 'terminate called' not in result.stdout
    assert sorted(f for f in os.listdir(cluster / 'd2') if f.endswith('.pth')) == ['iter_4.pth']
    # mmengine's runner came up under the slurm launcher with both tasks
    assert 'Distributed launcher: slurm' in result.stdout
    assert 'GPU number: 2' in result.stdout


def test_slurm_script_without_arguments_says_how():
    result = subprocess.run(['bash', os.path.join(REPO, 'tools', 'slurm_train.sh'), 'gpu'],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert result.returncode == 2
    assert result.stdout.startswith('error: usage: tools/slurm_train.sh PARTITION')
