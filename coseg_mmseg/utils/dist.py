"""Distributed runs on machines without CUDA (gloo), under mmengine's own runner."""
import atexit
import os

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log


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
    # Tear the group down before the interpreter does: left to the end of the process, gloo's
    # threads abort it ("terminate called without an active exception").
    atexit.register(lambda: dist.is_initialized() and dist.destroy_process_group())
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
