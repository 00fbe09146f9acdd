"""Small helpers shared by the tests."""
import json
import os
import subprocess
import sys
from typing import List, Optional

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_CONFIG = os.path.join(REPO, 'configs/tiny/coseg_prefix_tiny_cocostuff.py')


def run_tool(tool: str, *args: str, cwd: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``tools/<tool>`` with this interpreter; stdout and stderr together in ``.stdout``."""
    return subprocess.run([sys.executable, os.path.join(REPO, 'tools', tool), *args], cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


def read_scalars(work_dir: str) -> List[dict]:
    """The records of mmengine's ``vis_data/scalars.json`` under ``work_dir``."""
    paths = [os.path.join(root, f) for root, _, files in os.walk(work_dir) for f in files
             if f == 'scalars.json']
    assert len(paths) == 1, paths
    with open(paths[0]) as f:
        return [json.loads(line) for line in f if line.strip()]


def save_tiny_checkpoint(root: str, path: str, *, config: str = TINY_CONFIG,
                         meta: Optional[dict] = None) -> str:
    """Tiny assets under ``root/data/tiny`` and a checkpoint of a randomly initialised (seed 0)
    model of ``config`` at ``root/path``, saved as tools/train.py saves one; returns its path."""
    import torch
    from mmengine.config import Config
    from mmseg.registry import MODELS

    from coseg_tools.generators import make_tiny_assets
    make_tiny_assets(os.path.join(root, 'data', 'tiny'))
    cwd = os.getcwd()
    os.chdir(root)  # the tiny configs name their weights relative to the working directory
    try:
        torch.manual_seed(0)
        model = MODELS.build(Config.fromfile(config).model)
        model.init_weights()
        torch.save(dict(state_dict=model.state_dict(), meta=meta or {}), path)
    finally:
        os.chdir(cwd)
    return os.path.join(root, path)
