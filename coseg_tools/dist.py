"""Distributed runs on machines without CUDA (gloo), under mmengine's own runner."""
import logging
import os
import subprocess
import sys
from typing import Dict, Mapping

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log

from .cli import UserError


_STARTED_HERE = False


def prepare_distributed(cfg: Config, launcher: str) -> None:
    """Make ``--launcher pytorch`` and ``--launcher slurm`` work on CPU, leaving CUDA runs to
    mmengine as they are.

    mmengine 0.10 assumes CUDA for both launchers (``torch.cuda.set_device`` and DDP
    ``device_ids=[LOCAL_RANK]``). Without CUDA we start the process group ourselves with gloo
    (mmengine then skips its own initialisation) and let mmengine's
    ``MMDistributedDataParallel`` wrap the CPU model without ``device_ids``. Under slurm the
    rank, world size and master address are read from the ``SLURM_*`` variables exactly as
    mmengine's slurm launcher reads them (:func:`slurm_environment`).
    """
    if launcher not in ('pytorch', 'slurm') or torch.cuda.is_available() or dist.is_initialized():
        return
    if launcher == 'slurm':
        os.environ.update(slurm_environment(os.environ))
    backend = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend', 'gloo')
    if backend != 'gloo':
        print_log(f'no CUDA: using the gloo backend instead of {backend!r}', logger='current')
    dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                            world_size=int(os.environ['WORLD_SIZE']))
    global _STARTED_HERE
    _STARTED_HERE = True
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))


def slurm_environment(environ: Mapping[str, str]) -> Dict[str, str]:
    """The torch.distributed variables of one slurm task, as mmengine's slurm launcher sets them.

    ``RANK`` is ``SLURM_PROCID``, ``WORLD_SIZE`` is ``SLURM_NTASKS``, ``LOCAL_RANK`` is
    ``SLURM_LOCALID``; ``MASTER_ADDR`` (unless already set) is the first host of
    ``SLURM_NODELIST`` as ``scontrol show hostname`` expands it; ``MASTER_PORT`` is kept when set,
    29500 otherwise.

    Args:
        environ: The task's environment (``os.environ`` under ``srun``).

    Returns:
        The variables to add to the environment.
    """
    missing = [k for k in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST') if k not in environ]
    if missing:
        raise UserError(f'--launcher slurm: {", ".join(missing)} not set; start the tool '
                        f'through srun (tools/slurm_train.sh, tools/slurm_test.sh)')
    variables = dict(RANK=environ['SLURM_PROCID'], WORLD_SIZE=environ['SLURM_NTASKS'],
                     LOCAL_RANK=environ.get('SLURM_LOCALID', '0'),
                     MASTER_PORT=environ.get('MASTER_PORT', '29500'))
    if 'MASTER_ADDR' not in environ:
        nodes = environ['SLURM_NODELIST']
        try:
            hosts = subprocess.run(['scontrol', 'show', 'hostname', nodes],
                                   stdout=subprocess.PIPE, text=True, check=False).stdout.split()
        except FileNotFoundError:
            hosts = []
        if not hosts:
            raise UserError(f'--launcher slurm: scontrol show hostname {nodes} named no host; '
                            f'set MASTER_ADDR')
        variables['MASTER_ADDR'] = hosts[0]
    return variables


def finish_distributed() -> None:
    """End a gloo run that :func:`prepare_distributed` started, after the work succeeded.

    Left to interpreter shutdown, the process group's threads are sometimes destroyed while
    still joinable and abort the process ("terminate called without an active exception"),
    which torchrun reports as a failure of a run that finished. So: wait for every rank, tear
    the group down, flush the logs, and leave without running finalizers.
    """
    if not (_STARTED_HERE and dist.is_initialized()):
        return
    dist.barrier()
    dist.destroy_process_group()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
