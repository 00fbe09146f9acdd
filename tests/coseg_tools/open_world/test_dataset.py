"""OpenWorldDataset on a tiny layout in the world's format, through mmseg's stock pipeline."""
import json
import os

import numpy as np
import pytest
from PIL import Image

from coseg_tools.open_world.dataset import OpenWorldDataset

# Global ids 0..3; seen and unseen interleaved, listed out of global order in split.json.
CLASSES = ['red disc', 'blue disc', 'red wavy ground', 'blue wavy ground']
SEEN = ['blue wavy ground', 'red disc']
UNSEEN = ['red wavy ground', 'blue disc']
# One label map holding every global id and the ignore value.
LABEL = np.array([[0, 1, 2, 3], [3, 2, 1, 0], [255, 0, 3, 255], [1, 1, 2, 2]], np.uint8)
PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')]


def write_layout(root: str, split: str = 'val_mixed', label: np.ndarray = LABEL) -> str:
    """``root/scenes`` with split.json and one 4 x 4 scene under ``split``; returns it."""
    scenes = os.path.join(root, 'scenes')
    for kind in ('img_dir', 'ann_dir'):
        os.makedirs(os.path.join(scenes, kind, split), exist_ok=True)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(
        os.path.join(scenes, 'img_dir', split, '00000.png'))
    Image.fromarray(label).save(os.path.join(scenes, 'ann_dir', split, '00000.png'))
    with open(os.path.join(scenes, 'split.json'), 'w') as f:
        json.dump(dict(classes=CLASSES, stuff=CLASSES[2:], things=CLASSES[:2], seen=SEEN,
                       unseen=UNSEEN, split_seed=0, unseen_fraction=0.5), f)
    return scenes


def load(scenes: str, vocabulary: str, split: str = 'val_mixed') -> tuple:
    dataset = OpenWorldDataset(
        data_root=scenes, vocabulary=vocabulary, pipeline=PIPELINE,
        data_prefix=dict(img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}'))
    assert len(dataset) == 1
    return dataset, dataset[0]['data_samples'].gt_sem_seg.data[0].numpy()


@pytest.mark.parametrize('vocabulary, classes, lut', [
    # lut[global id] = expected label; 255 stays 255
    ('seen', ('red disc', 'blue wavy ground'), {0: 0, 1: 255, 2: 255, 3: 1}),
    ('unseen', ('blue disc', 'red wavy ground'), {0: 255, 1: 0, 2: 1, 3: 255}),
    ('all', tuple(CLASSES), {0: 0, 1: 1, 2: 2, 3: 3}),
])
def test_labels_follow_the_vocabulary(tmp_path, vocabulary, classes, lut):
    dataset, label = load(write_layout(str(tmp_path)), vocabulary)
    assert dataset.metainfo['classes'] == classes  # global id order
    expected = np.full_like(LABEL, 255)
    for gid, index in lut.items():
        expected[LABEL == gid] = index
    np.testing.assert_array_equal(label, expected)


def test_all_vocabulary_names_seen_and_unseen(tmp_path):
    dataset, _ = load(write_layout(str(tmp_path)), 'all')
    assert dataset.metainfo['seen_classes'] == ('red disc', 'blue wavy ground')
    assert dataset.metainfo['unseen_classes'] == ('blue disc', 'red wavy ground')


def test_bad_vocabulary_and_missing_split_are_refused(tmp_path):
    from coseg_tools.open_world.dataset import UserError
    scenes = write_layout(str(tmp_path))
    with pytest.raises(UserError, match="vocabulary='novel'"):
        OpenWorldDataset(data_root=scenes, vocabulary='novel')
    with pytest.raises(UserError, match='metainfo.classes'):
        OpenWorldDataset(data_root=scenes, metainfo=dict(classes=('a', )))
    os.remove(os.path.join(scenes, 'split.json'))
    with pytest.raises(FileNotFoundError, match='make_open_world_data'):
        OpenWorldDataset(data_root=scenes)
