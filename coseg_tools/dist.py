"""Distributed runs on machines without CUDA (gloo), under mmengine's own runner."""
import logging
import os
import sys

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log


_STARTED_HERE = False


def prepare_distributed(cfg: Config, launcher: str) -> None:
    """Make ``--launcher pytorch`` work on CPU, leaving CUDA runs to mmengine as they are.

    mmengine 0.10 assumes CUDA for the pytorch launcher (``torch.cuda.set_device`` and DDP
    ``device_ids=[LOCAL_RANK]``). Without CUDA we start the process group ourselves with gloo
    (mmengine then skips its own initialisation) and let mmengine's
    ``MMDistributedDataParallel`` wrap the CPU model without ``device_ids``.
    """
    if launcher != 'pytorch' or torch.cuda.is_available() or dist.is_initialized():
        return
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
