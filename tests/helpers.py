"""Small helpers shared by the tests."""
import json
import os
import subprocess
import sys
from typing import List

from coseg_tools.generators import save_tiny_checkpoint  # noqa: F401  (the tests' name for it)

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


def flat(tree, prefix: str = '') -> dict:
    """Dotted key -> leaf value of a resolved config (lists and tuples are leaves)."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    out = {}
    for key, value in tree.items():
        out.update(flat(value, f'{prefix}.{key}' if prefix else key))
    return out
