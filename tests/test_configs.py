"""Every file under configs/ loads with mmengine's Config; every model builds through mmseg."""
import copy
import functools
import glob
import os
import re

import pytest
import torch
from mmengine.config import Config
from mmseg.datasets import COCOStuffDataset
from mmseg.registry import DATASETS, MODELS

from coseg_mmseg.datasets.vocabularies import COCO_STUFF
from coseg_tools.generators import TINY_BACKBONE, TINY_PROJECTION_DIM, TINY_TEXT_ENCODER
from tests.helpers import REPO

CONFIGS = sorted(glob.glob(os.path.join(REPO, 'configs', '**', '*.py'), recursive=True))
TINY = {
    **{f'model.backbone.{k}': v for k, v in TINY_BACKBONE.items()},
    **{f'model.rank_backbone.{k}': v for k, v in TINY_BACKBONE.items() if k != 'out_indices'},
    **{f'model.text_encoder.{k}': v for k, v in TINY_TEXT_ENCODER.items()},
    **{f'model.cond_text_encoder.{k}': v for k, v in TINY_TEXT_ENCODER.items()},
    'model.neck.num_slots': 3, 'model.neck.in_channels': TINY_PROJECTION_DIM,
    'model.neck.embed_dims': 16, 'model.neck.out_channels': TINY_PROJECTION_DIM,
    'model.neck.depth': 1, 'model.neck.encoder_depth': 1, 'model.neck.decoder_depth': 1,
    'model.decode_head.in_channels': TINY_BACKBONE['embed_dims'],
    'model.decode_head.channels': 8, 'model.decode_head.cond_channels': TINY_PROJECTION_DIM,
    'model.decode_head.ffn_channels': 16,
}
# Random weights: nothing is downloaded (a model whose frozen pretrained parts were never
# loaded would load them from init_cfg before its first inference).
RANDOM = {f'model.{part}.init_cfg': None for part in (
    'backbone', 'rank_backbone', 'text_encoder', 'cond_text_encoder', 'decode_head')}


@functools.lru_cache(maxsize=None)
def _load(path: str) -> Config:
    return Config.fromfile(path)


def load(path: str) -> Config:
    """``Config.fromfile``, read once per session (each test gets its own copy)."""
    return copy.deepcopy(_load(path))


def test_configs_are_found():
    names = {os.path.relpath(c, REPO) for c in CONFIGS}
    assert {'configs/coseg/coseg_prefix_cocostuff.py',
            'configs/tiny/coseg_prefix_tiny_cocostuff.py'} <= names


def has_model(path: str) -> bool:
    return 'type' in load(path).get('model', {})


def has_datasets(path: str) -> bool:
    return any((load(path).get(split) or {}).get('dataset') for split in SPLITS)


SPLITS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
MODEL_CONFIGS = [p for p in CONFIGS if has_model(p)]
PIECES = [p for p in CONFIGS if not has_model(p)]  # schedule / dataset / preprocessor pieces
DATA_CONFIGS = [p for p in CONFIGS if has_datasets(p)]
ID = dict(ids=lambda p: os.path.relpath(p, REPO))


def test_every_config_is_checked_by_one_of_the_kinds():
    assert set(MODEL_CONFIGS) | set(PIECES) == set(CONFIGS)
    assert len(MODEL_CONFIGS) > 40 and len(PIECES) >= 10 and len(DATA_CONFIGS) > 40


@pytest.mark.parametrize('path', MODEL_CONFIGS, **ID)
def test_config_loads_and_builds(path):
    cfg = load(path)
    assert 'coseg_mmseg' in cfg.custom_imports['imports']
    # CLIP sizes: shrink them all (a stock mmseg segmentor on the CLIP is tiny already)
    if cfg.model.backbone.type == 'FrozenCLIPBackbone' and cfg.model.type != 'EncoderDecoder':
        cfg.merge_from_dict({k: v for k, v in TINY.items() if cfg.model.get(k.split('.')[1])})
        if cfg.model.get('neck', {}).get('in_key') == 'layers':  # the M activations side by side
            backbone = cfg.model.backbone
            cfg.model.neck.in_channels = len(backbone.out_indices) * backbone.embed_dims
    cfg.merge_from_dict({k: v for k, v in RANDOM.items() if cfg.model.get(k.split('.')[1])})
    model = MODELS.build(cfg.model)
    num_classes = 2
    if hasattr(model, 'set_vocabulary'):
        model.set_vocabulary(['grass', 'sea'], split='test')
    else:  # a stock mmseg segmentor (the open world's closed-set floor): fixed classes
        num_classes = model.decode_head.num_classes
    model.eval()
    with torch.no_grad():
        out = model.predict(torch.randn(1, 3, 64, 64))
    assert out[0].seg_logits.data.shape == (num_classes, 64, 64)


# Normalisations of the two image encoders' training (0-1 RGB; the configs use 0-255):
# OpenAI CLIP's, and ImageNet's for CLIPSeg's rd64 weights.
NORMALISATION = {
    'clip_data_preprocessor.py': ((0.48145466, 0.4578275, 0.40821073),
                                  (0.26862954, 0.26130258, 0.27577711)),
    'clipseg_data_preprocessor.py': ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}


@pytest.mark.parametrize('path', PIECES, **ID)
def test_config_piece_builds_what_it_defines(path):
    """Each piece that holds no model builds its own part: the data preprocessor with its
    encoder's normalisation, the authors' head options on a head, the datasets with a
    registered pipeline and mIoU, the schedule's optimizer at the paper's lr 1e-4."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS
    from mmseg.registry import METRICS, TRANSFORMS
    cfg, kind, name = load(path), os.path.basename(os.path.dirname(path)), os.path.basename(path)
    if name in NORMALISATION:
        pre = MODELS.build(cfg.model.data_preprocessor)
        mean, std = NORMALISATION[name]
        assert pre.mean.flatten().tolist() == pytest.approx([255 * m for m in mean])
        assert pre.std.flatten().tolist() == pytest.approx([255 * s for s in std])
        assert pre.channel_conversion  # BGR images from mmcv, RGB models
    elif name == 'coseg_authors-recipe.py':
        from coseg_mmseg.models import FiLMCLIPSegHead
        args = dict(in_channels=TINY_BACKBONE['embed_dims'], channels=8,
                    cond_channels=TINY_PROJECTION_DIM, ffn_channels=16)
        authors = FiLMCLIPSegHead(**args, **cfg.authors_decode_head)
        assert authors.state_dict().keys() == FiLMCLIPSegHead(**args).state_dict().keys()
        assert authors.inference_rule == 'authors' and authors.film_layers == (0, 1, 2)
    elif name == 'coseg_set-matching.py':
        # The head's set-matching assigner, its costs registered (mmseg's DiceCost among them).
        from coseg_mmseg.models import FiLMCLIPSegHead
        head = FiLMCLIPSegHead(in_channels=TINY_BACKBONE['embed_dims'], channels=8,
                               cond_channels=TINY_PROJECTION_DIM, ffn_channels=16,
                               train_cfg=cfg.set_matching_train_cfg)
        assert type(head.assigner).__name__ == 'SetMatchingAssigner'
        assert [type(c).__name__ for c in head.assigner.match_costs] == [
            'MaskBCECost', 'DiceCost', 'NamingCost']
    elif name == 'uint16_maps.py':
        # The 16-bit ignore index is the same on the loader, the padding and the head.
        assert TRANSFORMS.get(cfg.test_annotations['type']) is not None
        assert cfg.test_annotations['ignore_index'] == 65535
        assert cfg.uint16_ignore['data_preprocessor']['seg_pad_val'] == 65535
        assert cfg.uint16_ignore['decode_head']['ignore_index'] == 65535
    elif name == 'coseg_test-224.py':
        # The paper's test size around any annotation loader: load, fit 896 x 224, pack.
        steps = [*cfg.test_head, *cfg.test_tail]
        assert [step['type'] for step in steps] == ['LoadImageFromFile', 'Resize', 'PackSegInputs']
        assert all(TRANSFORMS.get(step['type']) is not None for step in steps)
        assert cfg.test_head[1]['scale'] == (896, 224) and cfg.test_head[1]['keep_ratio']
    elif kind == 'datasets':
        assert cfg.test_dataloader
        for split in SPLITS:
            if cfg.get(split):
                for step in cfg[split].dataset.pipeline:
                    assert TRANSFORMS.get(step['type']) is not None, (split, step['type'])
        for evaluator in (e for e in (cfg.val_evaluator, cfg.test_evaluator) if e):
            assert METRICS.get(evaluator['type']) is not None
            assert 'mIoU' in evaluator['iou_metrics']
    elif kind == 'schedules':
        optim = build_optim_wrapper(torch.nn.Linear(2, 2), cfg.optim_wrapper)
        paper = name in ('schedule_adam_cosine_100e.py', 'schedule_adamw_warmup-cosine_40k.py')
        lr = optim.get_lr()['lr'][0]
        assert lr == 1e-4 if paper else lr > 0
        for scheduler in cfg.param_scheduler:
            PARAM_SCHEDULERS.build(dict(scheduler, optimizer=optim, epoch_length=10))
        assert cfg.train_cfg.get('max_iters', cfg.train_cfg.get('max_epochs', 0)) > 0
        if 'max_iters' in cfg.train_cfg:
            # the decay ends with the training (a piece that shortens the training must
            # shorten its scheduler too, or the learning rate never comes down)
            assert cfg.param_scheduler[-1]['end'] == cfg.train_cfg.max_iters
    else:
        pytest.fail(f'no check for the config piece {os.path.relpath(path, REPO)}: add one')


def test_main_config_at_real_size_runs_a_forward():
    """The real ViT-B/16 config is consistent (random weights; nothing is downloaded)."""
    cfg = Config.fromfile(os.path.join(REPO, 'configs/coseg/coseg_prefix_cocostuff.py'))
    cfg.merge_from_dict({k: v for k, v in RANDOM.items() if cfg.model.get(k.split('.')[1])})
    model = MODELS.build(cfg.model)
    assert model.neck.num_slots == 20 and len(model.neck.blocks.resblocks) == 8
    assert model.decode_head.channels == 128
    model.set_vocabulary(['sky', 'sea', 'sand', 'person'], split='test')
    model.eval()
    with torch.no_grad():
        out = model.predict(torch.randn(1, 3, 224, 224))
    assert out[0].seg_logits.data.shape == (4, 224, 224)


def split_classes(cfg: Config) -> dict:
    """{split: metainfo classes} of the config's datasets (built without data)."""
    classes = {}
    for split in SPLITS:
        dataset = (cfg.get(split) or {}).get('dataset')
        if not dataset:
            continue
        if issubclass(DATASETS.get(dataset['type']), COCOStuffDataset):
            built = DATASETS.build(dict(dataset, lazy_init=True))
            classes[split] = tuple(built.metainfo['classes'])
        else:  # mmseg's VOC and Pascal Context look for their data even with lazy_init
            names = ((dataset.get('metainfo') or {}).get('classes')
                     or DATASETS.get(dataset['type']).METAINFO.get('classes'))
            # No fixed names (the open world's classes are read from its data): the splits
            # must at least read the same dataset type.
            classes[split] = tuple(names or (f"<{dataset['type']}'s own>", ))
    return classes


@pytest.mark.parametrize('path', DATA_CONFIGS, **ID)
def test_dataset_splits_name_the_classes_alike(path):
    """Training, validation and testing name a dataset's classes alike (the vocabulary hook
    takes the test vocabulary from the validation set's metainfo); COCO-Stuff's as natural
    words."""
    cfg = load(path)
    classes = split_classes(cfg)
    assert classes and all(len(names) > 0 for names in classes.values())
    assert len({classes[s] for s in classes if s != 'train_dataloader'}) == 1, classes.keys()
    for split, names in classes.items():
        if not issubclass(DATASETS.get(cfg[split].dataset.type), COCOStuffDataset):
            continue
        if '/convergence/' in path:  # a closed subset of COCO-Stuff's classes, same names
            assert set(names) < set(COCO_STUFF), (split, names)
            continue
        assert names == COCO_STUFF, (split, [n for n in names if n not in COCO_STUFF][:3])
    name = os.path.basename(path)
    if 'cocostuff' in name or name == 'coco_stuff164k.py':  # each split that it has is checked
        has = {'val_dataloader', 'test_dataloader'} | (
            set() if 'no-train' in name else {'train_dataloader'})
        assert set(classes) == has, sorted(classes)


PAPER_TOTAL_BATCH = 32  # paper, section 3.7
TRAINING = [p for p in CONFIGS  # configs/coseg/coseg_{prefix,xatten}*, but the tiny ones
            if os.path.dirname(p) == os.path.join(REPO, 'configs', 'coseg')
            and os.path.basename(p).startswith(('coseg_prefix', 'coseg_xatten'))
            and 'tiny' not in p]


def test_every_gpu_count_has_its_config():
    names = {os.path.basename(p) for p in TRAINING}
    for mode in ('prefix', 'xatten'):
        assert {f'coseg_{mode}_{n}xb{32 // n}_cocostuff.py' for n in (1, 2, 4, 8)} <= names


@pytest.mark.parametrize('path', TRAINING, ids=lambda p: os.path.relpath(p, REPO))
def test_training_config_batch_and_lr_follow_the_name(path):
    """NxB in the name: N GPUs x B images each; no NxB: the paper's 4 GPUs x 8 (the first
    comment line of coseg_{prefix,xatten}_cocostuff.py says so). The LR that runs is the
    paper's 1e-4 for its total batch of 32, scaled linearly to the name's total: by the config's
    own lr, or by auto_scale_lr (base_batch_size 32) when the config enables it."""
    cfg, name = load(path), os.path.basename(path)
    gpus_and_batch = re.search(r'_(\d+)xb(\d+)[-_]', name)
    gpus, per_gpu = (int(gpus_and_batch[1]), int(gpus_and_batch[2])) if gpus_and_batch else (4, 8)
    assert cfg.train_dataloader.batch_size == per_gpu
    total = gpus * per_gpu
    assert cfg.auto_scale_lr.base_batch_size == PAPER_TOTAL_BATCH
    scale = total / PAPER_TOTAL_BATCH if cfg.auto_scale_lr.enable else 1.0
    assert cfg.optim_wrapper.optimizer.lr * scale == pytest.approx(
        1e-4 * total / PAPER_TOTAL_BATCH)


@pytest.mark.parametrize('mode', ['prefix', 'xatten'])
def test_default_config_says_its_batch_in_its_first_line(mode):
    with open(os.path.join(REPO, f'configs/coseg/coseg_{mode}_cocostuff.py')) as f:
        first = f.readline()
    assert 'total batch 32 = 4 GPUs x 8' in first, first
