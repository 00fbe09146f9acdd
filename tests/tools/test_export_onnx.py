"""tools/export_onnx.py on the tiny CoSeg models: onnxruntime gives PyTorch's scores."""
import importlib.util
import json
import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from mmseg.structures import SegDataSample

from coseg_mmseg.apis import init_model
from coseg_mmseg.deploy import CoSegScoresGraph, export_onnx, vocabulary_embeddings
from coseg_tools.hostile._crafted import code_running_checkpoint
from tests.helpers import REPO, TINY_CONFIG, run_tool, save_tiny_checkpoint

pytestmark = pytest.mark.slow  # starts the tools in subprocesses

XATTEN_CONFIG = os.path.join(REPO, 'configs/tiny/coseg_xatten_tiny_cocostuff.py')
CLASSES = ('grass', 'sea', 'road', 'person')


@pytest.fixture(scope='module')
def workspace(tmp_path_factory):
    """Tiny assets under data/tiny and checkpoints of randomly initialised tiny CoSegs."""
    root = tmp_path_factory.mktemp('onnx')
    for name, config in (('prefix', TINY_CONFIG), ('xatten', XATTEN_CONFIG)):
        save_tiny_checkpoint(str(root), f'{name}.pth', config=config,
                             meta=dict(dataset_meta=dict(classes=CLASSES)))
    return root


def model_scores(model, image: torch.Tensor, vocab_embeds: torch.Tensor) -> torch.Tensor:
    """The model's own scores: its preprocessor's normalisation, _forward, slot_scores."""
    with torch.no_grad():
        bgr = image.flip(1)  # the data preprocessor takes the pipeline's BGR images
        samples = [SegDataSample() for _ in bgr]
        inputs = model.data_preprocessor(dict(inputs=list(bgr), data_samples=samples))['inputs']
        out = model.decode_head.forward({**model.neck(model.backbone(inputs)),
                                         'vocab_embeds': vocab_embeds})
        return model.decode_head.slot_scores(out)


def test_tool_exports_a_graph_that_matches_pytorch(workspace, monkeypatch):
    monkeypatch.chdir(workspace)
    result = run_tool('export_onnx.py', TINY_CONFIG, 'prefix.pth', 'out/tiny.onnx',
                      '--size', '64', '64', cwd=str(workspace), timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
    assert 'max abs difference' in result.stdout
    meta = {p.key: p.value for p in onnx.load('out/tiny.onnx').metadata_props}
    assert json.loads(meta['vocabulary']) == list(CLASSES)  # the checkpoint's classes
    assert float(meta['mask_threshold']) == 0.3 and meta['patch_size'] == '16'
    saved = np.load('out/tiny.vocab.npz')
    assert saved['names'].tolist() == list(CLASSES) + ['unlabeled']

    model = init_model(TINY_CONFIG, 'prefix.pth')
    np.testing.assert_allclose(saved['vocab_embeds'],
                               vocabulary_embeddings(model, CLASSES).numpy(), atol=1e-6)
    session = ort.InferenceSession('out/tiny.onnx', providers=['CPUExecutionProvider'])
    assert [i.name for i in session.get_inputs()] == ['image', 'vocab_embeds']
    # Another batch, image size (not the traced one) and vocabulary than at export.
    words = ('grass', 'sea', 'road', 'person', 'car', 'dog', 'sky')
    vocab = vocabulary_embeddings(model, words)
    image = torch.rand(2, 3, 96, 128, generator=torch.Generator().manual_seed(3)) * 255
    scores, masks, slot_classes = session.run(
        None, dict(image=image.numpy(), vocab_embeds=vocab.numpy()))
    expected = model_scores(model, image, vocab)
    assert scores.shape == (2, len(words), 96, 128)
    assert masks.shape == (2, model.neck.num_slots, 96, 128)
    assert np.abs(scores - expected.numpy()).max() <= 1e-4
    assert expected.max() > 0.05  # the scores are not all zero
    # Each slot's class scores its mask where it is the highest of its class.
    probs = 1 / (1 + np.exp(-masks))
    for b, n in [(0, 0), (1, 3)]:
        k = slot_classes[b, n]
        if k < len(words):
            assert (scores[b, k] >= probs[b, n] - 1e-6).all()


def test_xatten_graph_matches_pytorch_with_one_class(workspace, monkeypatch, tmp_path):
    monkeypatch.chdir(workspace)
    model = init_model(XATTEN_CONFIG, 'xatten.pth')
    path = str(tmp_path / 'xatten.onnx')
    export_onnx(model, path, vocabulary_embeddings(model, CLASSES), size=(80, 64),
                names=CLASSES)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    vocab = vocabulary_embeddings(model, ('sea', ))  # a one-class vocabulary, batch 1
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(4)) * 255
    got = session.run(None, dict(image=image.numpy(), vocab_embeds=vocab.numpy()))
    with torch.no_grad():
        want = CoSegScoresGraph(model)(image, vocab)
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape)
        assert np.abs(g - w.numpy()).max() <= 1e-4
    np.testing.assert_allclose(want[0].numpy(), model_scores(model, image, vocab).numpy(),
                               atol=1e-6)


def test_bad_size_and_missing_checkpoint_are_one_line_errors(workspace):
    bad_size = run_tool('export_onnx.py', TINY_CONFIG, 'prefix.pth', 'x.onnx', '--size', '60',
                        '64', cwd=str(workspace), timeout=300)
    assert bad_size.returncode == 2, bad_size.stdout[-2000:]
    assert 'error: --size 60 64: height and width must be positive multiples of the patch ' \
           'size 16' in bad_size.stdout
    assert 'Traceback' not in bad_size.stdout
    missing = run_tool('export_onnx.py', TINY_CONFIG, 'nowhere.pth', 'x.onnx',
                       cwd=str(workspace), timeout=300)
    assert missing.returncode == 2
    assert "error: checkpoint 'nowhere.pth' does not exist" in missing.stdout


def load_export_tool():
    """tools/export_onnx.py as a module, to call its functions in this process."""
    spec = importlib.util.spec_from_file_location('export_onnx_tool',
                                                  os.path.join(REPO, 'tools', 'export_onnx.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_checkpoint_swapped_after_the_load_is_never_unpickled(workspace, monkeypatch,
                                                                  tmp_path):
    """Issue 25.1: the default vocabulary was read by a second, unrestricted torch.load; a
    file swapped in after the safe load ran its payload. Now the file is read once."""
    marker = tmp_path / 'ran'
    shutil.copy(workspace / 'prefix.pth', tmp_path / 'model.pth')
    code_running_checkpoint(tmp_path / 'evil.pth', marker)
    tool = load_export_tool()
    real_init_model = tool.init_model

    def init_then_swap(*args, **kwargs):
        model = real_init_model(*args, **kwargs)
        os.replace(tmp_path / 'evil.pth', tmp_path / 'model.pth')  # what a symlink flip does
        return model

    monkeypatch.setattr(tool, 'init_model', init_then_swap)
    monkeypatch.chdir(workspace)
    tool.main([TINY_CONFIG, str(tmp_path / 'model.pth'), str(tmp_path / 'out.onnx'),
               '--embeddings-only'])
    assert not marker.exists()
    assert np.load(tmp_path / 'out.vocab.npz')['names'].tolist() == list(CLASSES) + [
        'unlabeled']
    # The helper itself, handed the hostile file, does not open it.
    model = real_init_model(TINY_CONFIG, str(workspace / 'prefix.pth'))
    assert tool.default_vocabulary(model, str(tmp_path / 'model.pth')) == CLASSES
    assert not marker.exists()


def test_a_code_running_checkpoint_is_one_line_and_runs_nothing(workspace, tmp_path):
    marker = tmp_path / 'ran'
    state_dict = torch.load(workspace / 'prefix.pth', weights_only=True)['state_dict']
    code_running_checkpoint(tmp_path / 'evil.pth', marker, state_dict=state_dict,
                            meta=dict(dataset_meta=dict(classes=CLASSES)))
    result = run_tool('export_onnx.py', TINY_CONFIG, str(tmp_path / 'evil.pth'),
                      str(tmp_path / 'x.onnx'), cwd=str(workspace), timeout=300)
    assert result.returncode == 2, result.stdout[-2000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith('error:')]
    assert len(lines) == 1 and 'evil.pth' in lines[0] and 'allow-list' in lines[0], \
        result.stdout[-2000:]
    assert 'Traceback' not in result.stdout
    assert not marker.exists()
