"""The convergence benchmark's generator: layout, content, determinism and the text side."""
import os

import cv2
import numpy as np
import pytest
import torch

from coseg_tools.cli import UserError
from coseg_tools.generators.convergence import (CONVERGENCE_CLASSES, CONVERGENCE_IDS,
                                                CONVERGENCE_NAMES, draw_convergence_scene,
                                                draw_crowded_scene, make_convergence_assets,
                                                make_convergence_clip, make_convergence_cocostuff)
from tests.helpers import REPO

CONFIG = os.path.join(REPO, 'configs/coseg/convergence/coseg_prefix_set-matching_convergence.py')


def test_scenes_are_in_cocostuff_layout_seeded_and_rich(tmp_path):
    root = make_convergence_cocostuff(str(tmp_path / 'a'), num_train=40, num_val=6, seed=3)
    for split, count in (('train2017', 40), ('val2017', 6)):
        images = sorted(os.listdir(os.path.join(root, 'images', split)))
        labels = sorted(os.listdir(os.path.join(root, 'annotations', split)))
        assert len(images) == len(labels) == count
        assert [i[:-4] + '_labelTrainIds.png' for i in images] == labels
    # mmseg's COCOStuffDataset, restricted to the benchmark's classes, finds every pair and
    # maps their trainIds to 0..11
    from mmseg.datasets import COCOStuffDataset
    classes = tuple(COCOStuffDataset.METAINFO['classes'][i] for i in CONVERGENCE_IDS)
    dataset = COCOStuffDataset(data_root=root, metainfo=dict(classes=classes),
                               data_prefix=dict(img_path='images/val2017',
                                                seg_map_path='annotations/val2017'),
                               pipeline=[dict(type='LoadAnnotations')])
    assert len(dataset) == 6
    assert set(np.unique(dataset[0]['gt_seg_map'])) <= set(range(12))

    maps = [cv2.imread(os.path.join(root, 'annotations/train2017', f), cv2.IMREAD_UNCHANGED)
            for f in sorted(os.listdir(os.path.join(root, 'annotations/train2017')))]
    assert all(m.dtype == np.uint8 and m.shape == (128, 128) for m in maps)
    assert set(np.unique(np.stack(maps))) <= set(CONVERGENCE_IDS)
    counts = [len(np.unique(m)) for m in maps]
    assert min(counts) >= 1 and max(counts) >= 6  # several things and stuff per image
    areas = [np.mean(m == c) for m in maps for c in np.unique(m)]
    assert min(areas) < 0.02 and max(areas) > 0.5  # small things and large regions
    # the same seed draws the same scenes; validation differs from training
    again = make_convergence_cocostuff(str(tmp_path / 'b'), num_train=2, num_val=1, seed=3)
    first = 'annotations/train2017/000000000001_labelTrainIds.png'
    assert (cv2.imread(os.path.join(again, first), 0) == maps[0]).all()
    val = cv2.imread(os.path.join(root, 'annotations/val2017/000000000001_labelTrainIds.png'), 0)
    assert not (val == maps[0]).all()


def test_scenes_are_textured_not_flat():
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(5):
        image, label = draw_convergence_scene(rng)
        for cls in np.unique(label):
            pixels = image[label == cls].astype(np.float32)
            if CONVERGENCE_CLASSES[cls][1] != 'smooth' and len(pixels) > 200:
                # inside a textured region, brightness varies well beyond the pixel noise
                assert pixels.std(axis=0).max() > 12, CONVERGENCE_CLASSES[cls]
                checked += 1
    assert checked >= 10


def test_held_out_scenes_sometimes_hold_more_classes_than_the_slots(tmp_path):
    """The last tenth of the validation scenes is crowded: more classes than the configs'
    slots, each class visible; the scenes before them are those of a run without them."""
    from mmengine.config import Config
    slots = Config.fromfile(CONFIG).model.neck.num_slots
    root = make_convergence_cocostuff(str(tmp_path / 'a'), num_train=1, num_val=30, seed=3)
    files = sorted(os.listdir(os.path.join(root, 'annotations/val2017')))
    maps = [cv2.imread(os.path.join(root, 'annotations/val2017', f), 0) for f in files]
    assert len(maps) == 33
    for label in maps[30:]:
        classes, areas = np.unique(label, return_counts=True)
        assert len(classes) > slots and areas.min() >= 0.005 * label.size
    assert max(len(np.unique(m)) for m in maps[:30]) <= slots
    with pytest.raises(ValueError, match='at most 9 classes, not min_classes=10'):
        draw_crowded_scene(np.random.default_rng(0), min_classes=10)  # would never end
    plain = make_convergence_cocostuff(str(tmp_path / 'b'), num_train=1, num_val=30, seed=3,
                                       num_crowded_val=0, num_crowded_train=2)
    assert len(os.listdir(os.path.join(plain, 'annotations/val2017'))) == 30
    assert all((cv2.imread(os.path.join(plain, 'annotations/val2017', f), 0) == m).all()
               for f, m in zip(files, maps[:30]))
    # crowded training scenes (an option of the benchmark) come after the plain ones
    train = [cv2.imread(os.path.join(folder, 'annotations/train2017', f), 0)
             for folder in (root, plain)
             for f in sorted(os.listdir(os.path.join(folder, 'annotations/train2017')))]
    assert len(train) == 1 + 3 and (train[0] == train[1]).all()
    assert all(len(np.unique(label)) > slots for label in train[2:])


def test_assets_refuse_scenes_written_with_other_counts(tmp_path):
    """Data generated before (other counts, or without the crowded scenes) is not reused
    silently."""
    make_convergence_cocostuff(str(tmp_path / 'coco_stuff164k'), num_train=2, num_val=10,
                               num_crowded_val=0)
    with pytest.raises(UserError, match=r'val2017 holds 10 scenes, not the 11 .* delete'):
        make_convergence_assets(str(tmp_path), num_train=2, num_val=10)


def test_trained_text_tower_separates_the_names_through_the_encoder(tmp_path):
    """The tiny CLIP's text side, loaded by FrozenCLIPTextEncoder from its HF files."""
    from coseg_mmseg.models.text_encoders import FrozenCLIPTextEncoder
    names = CONVERGENCE_NAMES + ('unlabeled', )

    def cosines(path):
        encoder = FrozenCLIPTextEncoder(
            embed_dims=32, num_layers=2, num_heads=2, output_dim=32, disk_cache=False,
            init_cfg=dict(type='CLIPPretrained', source='huggingface', checkpoint=path))
        encoder.init_weights()
        embeds = encoder(names)
        return (embeds @ embeds.t())[~torch.eye(len(names), dtype=torch.bool)]

    trained = make_convergence_clip(str(tmp_path / 'clip'), seed=0)
    random = make_convergence_clip(str(tmp_path / 'random'), seed=0, train_text=False)
    assert cosines(random).min() > 0.8  # the random tower: every name alike
    assert cosines(trained).max() < 0.5  # trained: every pair of names told apart
    # only the text side was trained: the image towers are the same
    from safetensors.torch import load_file
    a, b = (load_file(os.path.join(p, 'model.safetensors'))
            for p in (trained, random))
    assert all(torch.equal(a[k], b[k]) for k in a if k.startswith('vision_model.'))
    assert not torch.equal(a['text_projection.weight'], b['text_projection.weight'])
