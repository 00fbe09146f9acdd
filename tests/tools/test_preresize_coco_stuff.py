"""tools/dataset_converters/preresize_coco_stuff.py: the pre-cropped set trains on the same
tensors as the original, through the -224 config; random pipelines are refused."""
import importlib.util
import os

import pytest
import torch

from tests.helpers import REPO, run_tool

pytestmark = pytest.mark.slow  # starts the tools in subprocesses

PLAIN = os.path.join(REPO, 'configs/coseg/coseg_prefix_1xb64-bf16_cocostuff.py')
PRERESIZED = os.path.join(REPO, 'configs/coseg/coseg_prefix_1xb64-bf16_cocostuff-224.py')


def load_tool(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, 'tools', path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_preresized_set_gives_the_same_training_tensors(tmp_path):
    bench = load_tool('benchmarks/benchmark_data_pipeline.py', 'benchmark_data_pipeline')
    src, out = str(tmp_path / 'coco'), str(tmp_path / 'coco_224')
    bench.make_coco_sized_data(src, 3, height=150, width=200)
    result = run_tool('dataset_converters/preresize_coco_stuff.py', PLAIN, '--src', src,
                      '--out', out, cwd=str(tmp_path), timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'wrote 3 pre-resized samples' in result.stdout
    assert sorted(os.listdir(os.path.join(out, 'images', 'train2017')))[0] == '000000000000.png'
    plain, _ = bench.build_dataset(PLAIN, src)
    pre, _ = bench.build_dataset(PRERESIZED, out)
    assert len(plain) == len(pre) == 3
    for i in range(3):
        a, b = plain[i], pre[i]
        assert a['inputs'].shape == (3, 224, 224)
        assert torch.equal(a['inputs'], b['inputs'])
        assert torch.equal(a['data_samples'].gt_sem_seg.data, b['data_samples'].gt_sem_seg.data)
        assert b['data_samples'].img_path.startswith(out)
    converter = load_tool('dataset_converters/preresize_coco_stuff.py', 'preresize')
    assert converter.convert(PLAIN, out, src=src) == 0  # an interrupted run resumes


def test_random_transform_is_refused_by_name(tmp_path):
    config = tmp_path / 'random.py'
    config.write_text(
        f"_base_ = [{PLAIN!r}]\n"
        "train_dataloader = dict(dataset=dict(pipeline=[\n"
        "    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),\n"
        "    dict(type='RandomFlip', prob=0.5), dict(type='PackSegInputs')]))\n")
    converter = load_tool('dataset_converters/preresize_coco_stuff.py', 'preresize')
    with pytest.raises(ValueError, match=r"transform 'RandomFlip' is not deterministic"):
        converter.convert(str(config), str(tmp_path / 'out'), src=str(tmp_path))
