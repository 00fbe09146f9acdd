"""Shared fixtures: tiny models saved in the real formats, built once per test session."""
import json
import os

import pytest
import torch

from coseg_tools.generators import (TINY_BACKBONE, TINY_PROJECTION_DIM, TINY_TEXT, TINY_VISION,
                                    make_tiny_hf_clip, make_tiny_hf_clipseg)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='session', autouse=True)
def private_cache_dir(tmp_path_factory):
    """Keep the text-embedding disk cache of the tests out of the user's ~/.cache."""
    os.environ['COSEG_CACHE_DIR'] = str(tmp_path_factory.mktemp('coseg-cache'))


@pytest.fixture(scope='session', autouse=True)
def mmseg_scope():
    """Build from mmseg's registries, as its tools do (``default_scope='mmseg'``)."""
    from mmseg.utils import register_all_modules

    import coseg_mmseg  # noqa: F401  (registers the plugin, as custom_imports does)
    register_all_modules(init_default_scope=True)


@pytest.fixture(scope='session')
def tiny_clip_dir(tmp_path_factory) -> str:
    """A tiny random CLIPModel saved with save_pretrained."""
    return make_tiny_hf_clip(str(tmp_path_factory.mktemp('hf') / 'tiny-clip'))


@pytest.fixture(scope='session')
def tiny_clipseg_dir(tmp_path_factory) -> str:
    """A tiny random CLIPSegForImageSegmentation (complex transposed conv, like rd64-refined)."""
    return make_tiny_hf_clipseg(str(tmp_path_factory.mktemp('hf') / 'tiny-clipseg'))


@pytest.fixture(scope='session')
def tiny_open_clip(tmp_path_factory):
    """A tiny open_clip model registered under a config name and saved as a checkpoint file.

    Returns:
        (model_name, checkpoint_path, model): what ``open_clip.create_model`` takes, and the
        model itself in eval mode.
    """
    import open_clip
    folder = tmp_path_factory.mktemp('open_clip')
    name = 'tiny-coseg-ViT'
    config = dict(
        embed_dim=TINY_PROJECTION_DIM, quick_gelu=True,
        vision_cfg=dict(image_size=TINY_VISION['image_size'], layers=TINY_BACKBONE['num_layers'],
                        width=TINY_BACKBONE['embed_dims'], patch_size=TINY_VISION['patch_size'],
                        head_width=TINY_BACKBONE['embed_dims'] // TINY_BACKBONE['num_heads']),
        text_cfg=dict(context_length=77, vocab_size=49408, width=TINY_TEXT['hidden_size'],
                      heads=TINY_TEXT['num_attention_heads'],
                      layers=TINY_TEXT['num_hidden_layers']))
    (folder / f'{name}.json').write_text(json.dumps(config))
    open_clip.add_model_config(str(folder / f'{name}.json'))
    torch.manual_seed(1)
    model = open_clip.create_model(name).eval()
    checkpoint = str(folder / 'tiny.pt')
    torch.save(model.state_dict(), checkpoint)
    return name, checkpoint, model
