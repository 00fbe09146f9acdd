"""tools/analysis/get_flops.py: the FLOP count mmseg's own get_flops.py cannot give."""
import importlib.util
import os

from coseg_tools.tool_config import load_config
from tests.helpers import REPO


def load_tool():
    path = os.path.join(REPO, 'tools', 'analysis', 'get_flops.py')
    spec = importlib.util.spec_from_file_location('get_flops', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_real_config_counts_vit_b16_and_the_rest():
    """ViT-B/16 at 224 is the well-known 17.6 GMACs (35.2 GFLOPs); CoSeg adds the neck, the
    decoder over 20 slots and the upsampling on top (no download: random weights)."""
    cfg = load_config(os.path.join(REPO, 'configs/coseg/coseg_prefix_cocostuff.py'))
    flops = load_tool().inference_flops(cfg, (224, 224), 'sky, sea')
    assert abs(flops['backbone'] / 1e9 - 35.2) < 0.3
    assert 1.5 < flops['total'] / flops['backbone'] < 2.2
