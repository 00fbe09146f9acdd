"""The authors' recipe configs and schedule, and the recipe options docs/recipes.md lists."""
import argparse
import math
import os
import re
import shlex

import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS
from mmseg.registry import MODELS, TASK_UTILS

from tests.helpers import REPO, TINY_CONFIG

AUTHORS = {name: os.path.join(REPO, 'configs/coseg', name + '.py') for name in (
    'coseg_prefix_authors-recipe_4xb8_cocostuff', 'coseg_xatten_authors-recipe_4xb8_cocostuff')}
SCHEDULE = os.path.join(REPO, 'configs/_base_/schedules/schedule_adamw_warmup-cosine_40k.py')


def authors_lr(t: int) -> float:
    """detectron2's WarmupCosineLR: linear warm-up factor times a cosine over all 40k."""
    warmup = 1e-3 + (1 - 1e-3) * t / 4000 if t < 4000 else 1.0
    return 1e-4 * warmup * 0.5 * (1 + math.cos(math.pi * t / 40000))


def test_schedule_follows_warmup_times_cosine():
    cfg = Config.fromfile(SCHEDULE)
    model = torch.nn.Linear(2, 2)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert type(wrapper.optimizer).__name__ == 'AdamW'
    assert wrapper.optimizer.defaults['weight_decay'] == 1e-4
    assert wrapper.clip_grad_kwargs == dict(max_norm=1.0, norm_type=2)
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=wrapper))
                  for s in cfg.param_scheduler]
    seen = {}
    for t in range(40000):
        seen[t] = wrapper.optimizer.param_groups[0]['lr']
        for s in schedulers:
            s.step()
    for t in (0, 1000, 3999, 4000, 20000, 39999):
        assert seen[t] == pytest.approx(authors_lr(t), rel=1e-6, abs=1e-15), t
    assert cfg.train_cfg == dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)


@pytest.mark.parametrize('name', sorted(AUTHORS))
def test_authors_configs_carry_the_recipe(name):
    cfg = Config.fromfile(AUTHORS[name])
    head, loss = cfg.model.decode_head, cfg.model.decode_head.loss_decode
    assert head.film_layer == (0, 1, 2) and head.inference_rule == 'authors'
    assert (loss.dice_weight, loss.lang_weight, loss.temperature, loss.contrast) == (
        0.18, 0.12, 0.08, 'vocabulary')
    assert cfg.train_dataloader.batch_size * 4 == cfg.auto_scale_lr.base_batch_size == 32
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.model.neck.mode == ('xatten' if 'xatten' in name else 'prefix')
    assert cfg.model.neck.get('positions', 'sinusoidal') == (
        'learned' if 'xatten' in name else 'sinusoidal')
    assert 'Adam' not in str(cfg.get('param_scheduler'))  # nothing left of the paper's


def docs_options() -> dict:
    """NAME -> the --cfg-options words of each ``NAME="..."`` line of docs/recipes.md."""
    with open(os.path.join(REPO, 'docs/recipes.md')) as f:
        text = f.read()
    return {m[1]: shlex.split(m[2]) for m in re.finditer(r'^([A-Z_]+)="(.*)"$', text, re.M)}


def apply_options(cfg: Config, words) -> Config:
    """What tools/train.py does with --cfg-options (mmengine's DictAction)."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    if words:
        cfg.merge_from_dict(parser.parse_args(['--cfg-options', *words]).cfg_options)
    return cfg


def test_docs_options_build_the_recipes():
    options = docs_options()
    assert set(options) == {'PAPER', 'AUTHORS_MODEL', 'AUTHORS_XATTEN_NECK',
                            'AUTHORS_OPTIMIZER', 'SET_MATCHING', 'DICE'}
    cfg = apply_options(Config.fromfile(TINY_CONFIG), options['AUTHORS_MODEL']
                        + options['AUTHORS_XATTEN_NECK'] + options['AUTHORS_OPTIMIZER']
                        + ['model.neck.mode=xatten'])
    model = MODELS.build(cfg.model)
    head, loss = model.decode_head, model.decode_head.loss_decode
    assert head.film_layers == (0, 1, 2) and head.layer_order == 'shallow_first'
    assert isinstance(head.layers[0].mlp.act, torch.nn.GELU)
    assert isinstance(head.transposed_convolution[1], torch.nn.GELU)
    assert head.transposed_convolution[0].padding_mode == 'replicate'
    assert head.inference_rule == 'authors' and head.mask_threshold == 1e-6
    assert head.naming_temperature == 0.08  # the tiny config's 0.02 overridden, as the loss's
    assert (loss.dice_weight, loss.lang_weight, loss.temperature, loss.contrast) == (
        0.18, 0.12, 0.08, 'vocabulary')
    assert model.neck.positions == 'learned'
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert type(wrapper.optimizer).__name__ == 'AdamW'
    assert wrapper.optimizer.defaults['weight_decay'] == 1e-4
    assert wrapper.clip_grad_kwargs['max_norm'] == 1.0

    cfg = apply_options(Config.fromfile(TINY_CONFIG), options['SET_MATCHING'] + options['DICE'])
    model = MODELS.build(cfg.model)
    assert type(model.decode_head.assigner).__name__ == 'SetMatchingAssigner'
    assert model.decode_head.loss_decode.dice_weight == 0.18
    assert model.decode_head.inference_rule == 'paper'  # the rest stays the paper's
    assert model.decode_head.naming_temperature == 0.02  # the tiny config's
    assert match_costs(model) == [('MaskBCECost', 1.0), ('DiceCost', 1.0), ('NamingCost', 1.0)]
    shipped = apply_options(Config.fromfile(os.path.join(
        REPO, 'configs/coseg/coseg_prefix_set-matching_cocostuff.py')),
        ['model.decode_head.train_cfg.assigner.match_costs.2.weight=2.0'])  # docs/recipes.md
    assigner = TASK_UTILS.build(shipped.model.decode_head.train_cfg.assigner)
    assert [(type(c).__name__, c.weight) for c in assigner.match_costs] == [
        ('MaskBCECost', 1.0), ('DiceCost', 1.0), ('NamingCost', 2.0)]
    paper = MODELS.build(apply_options(Config.fromfile(TINY_CONFIG), options['PAPER']).model)
    assert paper.decode_head.film_layers == (0, )
    assert type(paper.decode_head.assigner).__name__ == 'AreaRankedAssigner'


def match_costs(model) -> list:
    """(type, weight) of the set-matching costs of a model's head."""
    return [(type(c).__name__, c.weight) for c in model.decode_head.assigner.match_costs]
