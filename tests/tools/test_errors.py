"""The tools answer a user's mistake with one ``error:`` line on stderr and exit status 2.

Most cases run as subprocesses (the venv's python, this worktree on PYTHONPATH), as a user
runs them; the rest run the same ``run_tool(main)`` entry point in this process, to keep the
suite fast (a tool's subprocess spends seconds importing torch and mmseg).
"""
import importlib.util
import os
import subprocess
import sys
from collections import OrderedDict
from typing import Tuple

import pytest
import torch
from mmengine.logging import MMLogger

from coseg_tools.cli import run_tool
from coseg_tools.generators import make_tiny_assets
from tests.helpers import REPO, TINY_CONFIG

NO_TRAIN_CONFIG = os.path.join(REPO, 'configs/tiny/coseg_no-train_tiny_cocostuff.py')
XATTEN_CONFIG = os.path.join(REPO, 'configs/tiny/coseg_xatten_tiny_cocostuff.py')
IMAGE = 'data/tiny/coco_stuff164k/images/val2017/000000000003.jpg'


def run(tool: str, *args: str, cwd: str, env: dict = None) -> subprocess.CompletedProcess:
    """``tools/<tool>`` in a subprocess; stdout and stderr apart."""
    environ = dict(os.environ, PYTHONPATH=REPO)
    environ.pop('COSEG_DEBUG', None)
    environ.update(env or {})
    return subprocess.run([sys.executable, os.path.join(REPO, 'tools', tool), *args], cwd=cwd,
                          env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=600)


def run_here(tool: str, *args: str, monkeypatch, capsys) -> Tuple[int, str, str]:
    """``run_tool(main)`` of ``tools/<tool>`` in this process: (exit status, stdout, stderr)."""
    path = os.path.join(REPO, 'tools', tool)
    spec = importlib.util.spec_from_file_location('tool_' + tool.replace('/', '_')[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, 'argv', [path, *args])
    # mmengine's loggers made during the run write to capsys's stream, closed after the test:
    # forget them afterwards.
    monkeypatch.setattr(MMLogger, '_instance_dict', OrderedDict(MMLogger._instance_dict))
    with pytest.raises(SystemExit) as exit_info:
        run_tool(module.main)
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def error_line(status: int, stdout: str, stderr: str) -> str:
    """The one ``error:`` line, after checking the exit status and that no traceback shows."""
    assert status == 2, (status, stdout[-2000:], stderr[-3000:])
    assert 'Traceback' not in stdout + stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.startswith('error:')]
    assert len(lines) == 1, stderr[-3000:]
    assert stderr.rstrip().endswith(lines[0])  # the last thing said
    return lines[0]


def check(result: subprocess.CompletedProcess) -> str:
    return error_line(result.returncode, result.stdout, result.stderr)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A folder with the tiny assets under data/tiny (the tiny configs' relative paths)."""
    root = tmp_path_factory.mktemp('errors')
    make_tiny_assets(str(root / 'data' / 'tiny'))
    return root


@pytest.fixture(scope='module')
def xatten_checkpoint(tiny):
    """A checkpoint of the tiny CoSeg-XAtten: it does not fit the tiny CoSeg-Prefix."""
    from mmengine.config import Config
    from mmseg.registry import MODELS
    state = MODELS.build(Config.fromfile(XATTEN_CONFIG).model).state_dict()
    path = tiny / 'xatten.pth'
    torch.save(dict(state_dict=state, meta=dict()), path)
    return path


def expected_mismatch(xatten_checkpoint) -> Tuple[set, set]:
    from mmengine.config import Config
    from mmseg.registry import MODELS
    ours = set(MODELS.build(Config.fromfile(TINY_CONFIG).model).state_dict())
    theirs = set(torch.load(xatten_checkpoint, weights_only=True)['state_dict'])
    return ours - theirs, theirs - ours


# --- as subprocesses -------------------------------------------------------------------------

@pytest.mark.slow
def test_train_missing_dataset_names_the_folder_and_how_to_prepare_it(tmp_path):
    line = check(run('train.py', os.path.join(REPO, 'configs/coseg/coseg_prefix_cocostuff.py'),
                     cwd=str(tmp_path)))
    assert "dataset folder 'data/coco_stuff164k'" in line and 'coco_stuff164k.py' in line


@pytest.mark.slow
def test_test_missing_checkpoint(tmp_path):
    line = check(run('test.py', TINY_CONFIG, 'nowhere/iter_1.pth', cwd=str(tmp_path)))
    assert "checkpoint 'nowhere/iter_1.pth' does not exist" in line


@pytest.mark.slow
def test_test_mismatched_checkpoint_is_summarised(tiny, xatten_checkpoint):
    missing, unexpected = expected_mismatch(xatten_checkpoint)
    assert len(missing) > 3 and len(unexpected) > 3  # worth summarising
    line = check(run('test.py', TINY_CONFIG, 'xatten.pth', cwd=str(tiny)))
    assert line.startswith("error: checkpoint 'xatten.pth' does not fit the CoSeg of ")
    assert f'{len(missing)} missing keys (' in line
    assert f'{len(unexpected)} unexpected keys (' in line
    assert 'neck.' in line and 'was it trained with this config?' in line
    assert len(line) < 600  # counts and a few keys, not every key


@pytest.mark.slow
def test_test_undecodable_dataset_image_is_not_an_image(tmp_path):
    make_tiny_assets(str(tmp_path / 'data' / 'tiny'))
    (tmp_path / IMAGE).write_bytes(b'not a jpeg')
    line = check(run('test.py', NO_TRAIN_CONFIG, '--work-dir', 'wd', cwd=str(tmp_path)))
    assert f"image '{IMAGE}' of the dataset is not an image" in line


@pytest.mark.slow
def test_demo_undecodable_image(tmp_path):
    (tmp_path / 'photo.jpg').write_bytes(b'\x89PNG but not really')
    line = check(run('demo.py', 'photo.jpg', '--vocab', 'sky,sea', cwd=str(tmp_path)))
    assert "'photo.jpg' is not an image" in line and 'not found' not in line


@pytest.mark.slow
def test_debug_flag_shows_the_traceback(tmp_path):
    result = run('train.py', 'nowhere.py', '--debug', cwd=str(tmp_path))
    assert result.returncode == 2
    assert 'Traceback (most recent call last)' in result.stderr
    assert result.stderr.rstrip().splitlines()[-1] == (
        f"error: config file 'nowhere.py' does not exist (working directory: {tmp_path}); "
        f'give the path of a config, e.g. configs/coseg/coseg_prefix_cocostuff.py')


# --- in this process, through the same entry point -------------------------------------------

def test_test_missing_config(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = error_line(*run_here('test.py', 'configs/nope.py', 'ckpt.pth', monkeypatch=monkeypatch,
                                capsys=capsys))
    assert "config file 'configs/nope.py' does not exist" in line


@pytest.mark.parametrize('key, named, suggestion', [
    ('model.decode_head.mask_treshold=0.5', "model.decode_head (FiLMCLIPSegHead) has no "
     "'mask_treshold'", "'mask_threshold'"),
    ('train_cfg.max_iter=3', "train_cfg (IterBasedTrainLoop) has no 'max_iter'", "'max_iters'"),
    ('val_dataloader.dataset.pipeline.9.scale=(1,1)', 'is a list of 4 items', None),
])
def test_unknown_cfg_options_key(tmp_path, monkeypatch, capsys, key, named, suggestion):
    monkeypatch.chdir(tmp_path)
    line = error_line(*run_here('train.py', TINY_CONFIG, '--cfg-options', key,
                                monkeypatch=monkeypatch, capsys=capsys))
    assert f"--cfg-options key '{key.split('=')[0]}'" in line and named in line
    if suggestion:
        assert f'did you mean {suggestion}' in line


def test_test_bad_config_vocabulary(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = error_line(*run_here('test.py', TINY_CONFIG, '--cfg-options',
                                'model.test_vocabulary=voc21', monkeypatch=monkeypatch,
                                capsys=capsys))
    assert line.startswith(f"error: model.test_vocabulary='voc21' in {TINY_CONFIG}: unknown "
                           f"vocabulary name 'voc21'")


def test_demo_missing_image(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = error_line(*run_here('demo.py', 'nope.jpg', '--vocab', 'sky', monkeypatch=monkeypatch,
                                capsys=capsys))
    assert "image 'nope.jpg' does not exist" in line


@pytest.mark.parametrize('vocab, named', [
    ('sky;sea', "--vocab 'sky;sea': cannot read the vocabulary"),
    ('sky,,sea', 'empty name between commas'),
    ('sky,sea,sky', "has 'sky' twice"),
    ('@nowhere.txt', "vocabulary file 'nowhere.txt' does not exist"),
    ('sky,unlabeled', "--vocab 'sky,unlabeled' names 'unlabeled'"),
])
def test_demo_bad_vocabulary(tiny, monkeypatch, capsys, vocab, named):
    monkeypatch.chdir(tiny)
    line = error_line(*run_here('demo.py', IMAGE, '--vocab', vocab, '--config', NO_TRAIN_CONFIG,
                                monkeypatch=monkeypatch, capsys=capsys))
    assert named in line


def test_demo_missing_and_mismatched_checkpoint(tiny, xatten_checkpoint, monkeypatch, capsys):
    monkeypatch.chdir(tiny)
    line = error_line(*run_here('demo.py', IMAGE, '--vocab', 'sky', '--config', TINY_CONFIG,
                                '--checkpoint', 'none.pth', monkeypatch=monkeypatch,
                                capsys=capsys))
    assert "checkpoint 'none.pth' does not exist" in line
    missing, unexpected = expected_mismatch(xatten_checkpoint)
    line = error_line(*run_here('demo.py', IMAGE, '--vocab', 'sky', '--config', TINY_CONFIG,
                                '--checkpoint', 'xatten.pth', monkeypatch=monkeypatch,
                                capsys=capsys))
    assert f"checkpoint 'xatten.pth' does not fit the CoSeg of {TINY_CONFIG}: " \
           f'{len(missing)} missing keys' in line and len(line) < 600


def test_demo_clip_weights_that_do_not_fit_the_config(tiny, monkeypatch, capsys):
    (tiny / 'wide.py').write_text(f'_base_ = [{NO_TRAIN_CONFIG!r}]\n'
                                  'model = dict(backbone=dict(embed_dims=128))\n')
    monkeypatch.chdir(tiny)
    line = error_line(*run_here('demo.py', IMAGE, '--vocab', 'sky', '--config', 'wide.py',
                                monkeypatch=monkeypatch, capsys=capsys))
    assert line.startswith("error: weights from huggingface checkpoint 'data/tiny/clipseg' do "
                           "not fit CLIPVisionTower (prefix 'visual.'): shape mismatch (")


def test_pascal_context_459_converter_missing_inputs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = error_line(*run_here('dataset_converters/pascal_context_459.py', 'VOC2010',
                                '--mat-dir', 'trainval', monkeypatch=monkeypatch,
                                capsys=capsys))
    assert "--mat-dir 'trainval' does not exist" in line
    (tmp_path / 'trainval').mkdir()
    line = error_line(*run_here('dataset_converters/pascal_context_459.py', 'VOC2010',
                                '--mat-dir', 'trainval', monkeypatch=monkeypatch,
                                capsys=capsys))
    assert "split file 'VOC2010/ImageSets/SegmentationContext/val.txt' does not exist" in line


def test_convert_clipseg_not_a_clipseg_checkpoint(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    torch.save({'head.weight': torch.zeros(2)}, tmp_path / 'other.pth')
    line = error_line(*run_here('convert_clipseg.py', 'other.pth', 'out.pth',
                                monkeypatch=monkeypatch, capsys=capsys))
    assert "unknown keys ['head.weight']" in line and 'give a CLIPSeg checkpoint' in line


def test_coseg_debug_env_shows_the_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('COSEG_DEBUG', '1')
    status, _, err = run_here('dataset_converters/coco_object.py', 'data/coco_stuff164k',
                              monkeypatch=monkeypatch, capsys=capsys)
    assert status == 2 and 'Traceback (most recent call last)' in err
    assert err.rstrip().splitlines()[-1].startswith(
        "error: folder 'data/coco_stuff164k/annotations/val2017' does not exist")


def test_coco_object_converter_missing_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = error_line(*run_here('dataset_converters/coco_object.py', 'data/coco_stuff164k',
                                monkeypatch=monkeypatch, capsys=capsys))
    assert "folder 'data/coco_stuff164k/annotations/val2017' does not exist" in line


def test_convert_clipseg_unreadable_checkpoint(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'rd64.pth').write_bytes(b'garbage')
    line = error_line(*run_here('convert_clipseg.py', 'rd64.pth', 'out.pth',
                                monkeypatch=monkeypatch, capsys=capsys))
    assert "checkpoint 'rd64.pth' cannot be read" in line
    assert not (tmp_path / 'out.pth').exists()


def test_a_bug_keeps_its_traceback(monkeypatch, capsys):
    """Only the user's mistakes are shortened: anything else still raises."""
    def main():
        raise ZeroDivisionError('a bug')
    monkeypatch.setattr(sys, 'argv', ['tool'])
    with pytest.raises(ZeroDivisionError):
        run_tool(main)


def test_convergence_data_written_by_an_older_version(tmp_path, monkeypatch, capsys):
    """Scenes already there with other counts are refused in one line, not reused silently."""
    from coseg_tools.generators.convergence import make_convergence_cocostuff
    monkeypatch.chdir(tmp_path)
    make_convergence_cocostuff('data/coco_stuff164k', num_train=2, num_val=10, num_crowded_val=0)
    line = error_line(*run_here('make_convergence_data.py', '--out', 'data', '--num-train', '2',
                                '--num-val', '10', monkeypatch=monkeypatch, capsys=capsys))
    assert line == ('error: data/coco_stuff164k/images/val2017 holds 10 scenes, not the 11 this '
                    'benchmark writes: delete data/coco_stuff164k and run again')


# --- the tools that joined run_tool (issue 26.5): a bad argument, one line naming it ----------

@pytest.mark.parametrize('tool, args, named', [
    ('make_tiny_assets.py', ['--out', 'taken.txt'], "--out 'taken.txt' is a file"),
    ('web_demo.py', ['--examples', 'nope.jpg'], "example image 'nope.jpg' does not exist"),
    ('zero_shot_eval.py', ['--model', 'no-train', '--model-config', 'nope.py'],
     "config file 'nope.py' does not exist"),
    ('zero_shot_eval.py', ['--model', 'no-train', '--model-config', 'modelless.py'],
     "--model-config 'modelless.py' defines no model"),
    ('analysis/checkpoint_size.py', ['nope.py'], "config file 'nope.py' does not exist"),
    ('analysis/class_count_distribution.py',
     [TINY_CONFIG, '--cfg-options', 'train_dataloader.dataset.no_such_key=1'],
     "--cfg-options key 'train_dataloader.dataset.no_such_key'"),
    ('benchmarks/benchmark_no_train.py', ['--k', '0'], '--k 0, --images 3, --repeats 3'),
    ('benchmarks/benchmark_onnx.py', ['--sizes', '224', '100'], '--sizes 100: each size'),
    ('benchmarks/benchmark_memory.py', ['--before', 'no-such-commit'],
     "--before 'no-such-commit' is not a commit"),
    ('benchmarks/benchmark_data_pipeline.py', ['--config', 'nope.py'], "--config 'nope.py'"),
    ('dataset_converters/ade20k_847.py', ['release'], 'cannot be read as the ADE20K index'),
    ('dataset_converters/preresize_coco_stuff.py', ['random.py', '--out', 'out'],
     "transform 'RandomFlip' is not deterministic"),
])
def test_converted_tool_names_the_bad_argument(tool, args, named, tmp_path, monkeypatch,
                                              capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'taken.txt').write_text('a file, not a folder')
    (tmp_path / 'modelless.py').write_text('work_dir = "elsewhere"\n')
    (tmp_path / 'release').mkdir()
    (tmp_path / 'release' / 'index_ade20k.pkl').write_bytes(b'not a pickle')
    (tmp_path / 'random.py').write_text(
        f"_base_ = [{TINY_CONFIG!r}]\n"
        "train_dataloader = dict(dataset=dict(pipeline=[\n"
        "    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),\n"
        "    dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]))\n")
    line = error_line(*run_here(tool, *args, monkeypatch=monkeypatch, capsys=capsys))
    assert named in line


@pytest.mark.skipif(torch.cuda.is_available(), reason='asks for CUDA where there is none')
def test_benchmark_without_cuda_says_so(monkeypatch, capsys):
    line = error_line(*run_here('benchmarks/benchmark.py', '--device', 'cuda',
                                monkeypatch=monkeypatch, capsys=capsys))
    assert line == "error: --device 'cuda': no CUDA device is visible here; run with --device cpu"


def test_every_tool_enters_through_run_tool():
    """A tool whose ``__main__`` calls ``main()`` itself answers a mistake with a traceback."""
    import ast
    import glob
    tools = sorted(glob.glob(os.path.join(REPO, 'tools', '**', '*.py'), recursive=True))
    assert len(tools) > 20, tools
    bare = []
    for path in tools:
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        mains = [node for node in tree.body if isinstance(node, ast.If)
                 and ast.unparse(node.test) == "__name__ == '__main__'"]
        calls = {ast.unparse(call.func) for node in mains for call in ast.walk(node)
                 if isinstance(call, ast.Call)}
        if 'run_tool' not in calls:
            bare.append(os.path.relpath(path, REPO))
    assert bare == []
