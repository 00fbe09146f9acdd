"""The slurm task's torch.distributed variables (coseg_tools/dist.py)."""
import os
import stat

import pytest

from coseg_tools.cli import UserError
from coseg_tools.dist import slurm_environment

TASK = dict(SLURM_PROCID='3', SLURM_NTASKS='8', SLURM_LOCALID='1', SLURM_NODELIST='gpu[07-08]')


@pytest.fixture
def scontrol(tmp_path, monkeypatch):
    """An scontrol on PATH that expands gpu[07-08] as slurm does."""
    path = tmp_path / 'scontrol'
    path.write_text('#!/bin/sh\n[ "$1 $2 $3" = "show hostname gpu[07-08]" ] && '
                    'printf "gpu07\\ngpu08\\n"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv('PATH', f'{tmp_path}{os.pathsep}{os.environ["PATH"]}')


def test_rank_world_and_master_as_mmengine_reads_them(scontrol):
    assert slurm_environment(TASK) == dict(RANK='3', WORLD_SIZE='8', LOCAL_RANK='1',
                                           MASTER_PORT='29500', MASTER_ADDR='gpu07')


def test_set_master_address_and_port_are_kept(scontrol):
    env = dict(TASK, MASTER_PORT='1234', MASTER_ADDR='10.0.0.1')
    assert slurm_environment(env) == dict(RANK='3', WORLD_SIZE='8', LOCAL_RANK='1',
                                          MASTER_PORT='1234')


def test_outside_srun_is_one_line():
    with pytest.raises(UserError, match='SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST not set'):
        slurm_environment({})


def test_no_scontrol_names_master_addr(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))
    with pytest.raises(UserError, match='set MASTER_ADDR'):
        slurm_environment(TASK)
