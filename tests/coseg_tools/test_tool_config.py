"""load_tool_config: --cfg-options keys must name something the config or its components have."""
import pytest

from coseg_tools.cli import UserError
from coseg_tools.tool_config import load_tool_config
from tests.helpers import TINY_CONFIG


def load(*options: str):
    pairs = dict(option.split('=') for option in options)
    return load_tool_config(TINY_CONFIG, launcher='none', cfg_options=pairs, work_dir=None)


def test_existing_keys_constructor_arguments_and_runner_arguments_are_accepted():
    cfg = load('train_cfg.max_iters=5',  # in the config
               'val_dataloader.dataset.pipeline.1.keep_ratio=0',  # a list item's key
               'model.decode_head.num_layers=3',  # a FiLMCLIPSegHead argument
               'model.neck.init_cfg=None',  # an argument of a base class (BaseModule)
               'randomness.deterministic=1',  # a new key of a plain dict
               'load_from=x.pth')  # a Runner argument
    assert cfg.train_cfg.max_iters == '5' and cfg.model.decode_head.num_layers == '3'
    assert cfg.val_dataloader.dataset.pipeline[1].keep_ratio == '0'
    assert cfg.load_from == 'x.pth'


@pytest.mark.parametrize('option, message', [
    ('model.decode_head.mask_treshold=1', "model.decode_head (FiLMCLIPSegHead) has no "
     "'mask_treshold'; did you mean 'mask_threshold'"),
    ('model.neck.num_slot=3', "did you mean 'num_slots'"),
    ('lod_from=x', "the top level has no 'lod_from'; did you mean 'load_from'?"),
    ('model.test_cfg.mod=slide', "model.test_cfg has no 'mod'; did you mean 'mode'?"),
    ('crop_size.0.x=1', 'is int 64, not a dict'),
])
def test_unknown_keys_are_refused_with_the_closest_ones(option, message):
    with pytest.raises(UserError) as error:
        load(option)
    assert f"--cfg-options key '{option.split('=')[0]}'" in str(error.value)
    assert message in str(error.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(UserError, match="config file '.*nope.py' does not exist"):
        load_tool_config(str(tmp_path / 'nope.py'), launcher='none', cfg_options=None,
                         work_dir=None)


def test_num_classes_of_an_mmseg_head_says_what_to_do(tmp_path):
    """Every mmseg decode head takes num_classes, so a config copied from one carries it: one
    line saying the classes follow the vocabulary, in --cfg-options and in a config file."""
    with pytest.raises(UserError, match=r"option 'num_classes' is not taken by FiLMCLIPSegHead: "
                                        r"the classes follow the vocabulary .*; delete it"):
        load('model.decode_head.num_classes=171')
    old = tmp_path / 'old_config.py'
    old.write_text(f"_base_ = [{TINY_CONFIG!r}]\n"
                   f"model = dict(decode_head=dict(num_classes=171))\n")
    with pytest.raises(UserError, match=r"model.decode_head.num_classes in .*old_config.py is not "
                                        r"taken by FiLMCLIPSegHead: .*delete it"):
        load_tool_config(str(old), launcher='none', cfg_options=None, work_dir=None)


@pytest.mark.parametrize('option, new_place', [
    ("target_assignment='hungarian'", r"moved to decode_head\.train_cfg\.assigner: 'area' is "
     r"dict\(type='AreaRankedAssigner'\) .*'hungarian' dict\(type='SetMatchingAssigner'\)"),
    ('matching_costs=dict(name=2.0)', r'moved to decode_head\.train_cfg\.assigner\.match_costs'),
])
def test_set_matching_options_of_before_name_their_new_place(tmp_path, option, new_place):
    """The head's target_assignment and matching_costs became train_cfg.assigner (issue 26.3):
    a config or an option still naming them fails in one line saying where they went."""
    key = option.split('=')[0]
    old = tmp_path / 'old_config.py'
    old.write_text(f"_base_ = [{TINY_CONFIG!r}]\nmodel = dict(decode_head=dict({option}))\n")
    with pytest.raises(UserError, match=rf'model\.decode_head\.{key} in .*old_config\.py is '
                                        rf'not taken by FiLMCLIPSegHead: {new_place}'):
        load_tool_config(str(old), launcher='none', cfg_options=None, work_dir=None)
    with pytest.raises(UserError, match=rf"option '{key}' is not taken by FiLMCLIPSegHead: "
                                        rf'{new_place}'):
        load(f'model.decode_head.{key}=1')
