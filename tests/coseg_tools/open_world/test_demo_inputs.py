"""The open world demo's inputs: the scene mixing most unseen with seen classes."""
import os

import cv2
import numpy as np

from coseg_tools.open_world.demo_inputs import write_demo_inputs
from tests.coseg_tools.open_world.test_dataset import CLASSES, write_layout


def test_scene_vocabulary_and_unseen_names(tmp_path):
    # global ids: 0 red disc (seen), 1 blue disc (unseen), 2 red wavy (unseen), 3 blue wavy (seen)
    one_unseen = np.array([[0, 3], [1, 255]], np.uint8)
    two_unseen = np.array([[0, 3], [1, 2]], np.uint8)
    no_seen_pair = np.array([[1, 2], [0, 0]], np.uint8)  # two unseen, one seen only
    scenes = write_layout(str(tmp_path), label=one_unseen)
    for i, label in enumerate([two_unseen, no_seen_pair], start=1):
        cv2.imwrite(os.path.join(scenes, 'ann_dir/val_mixed', f'{i:05d}.png'), label)
        cv2.imwrite(os.path.join(scenes, 'img_dir/val_mixed', f'{i:05d}.png'),
                    np.full((2, 2, 3), i, np.uint8))
    out = str(tmp_path / 'demo')
    chosen = write_demo_inputs(scenes, out, scale=3)
    assert chosen == dict(scene='val_mixed/00001.png', seen=['red disc', 'blue wavy ground'],
                          unseen=['blue disc', 'red wavy ground'])
    image = cv2.imread(os.path.join(out, 'scene.png'))
    assert image.shape == (6, 6, 3) and (image == 1).all()
    labels = cv2.imread(os.path.join(out, 'scene_labels.png'), 0)
    np.testing.assert_array_equal(labels, np.kron(two_unseen, np.ones((3, 3), np.uint8)))
    assert open(os.path.join(out, 'vocab.txt')).read().splitlines() == CLASSES
    assert open(os.path.join(out, 'unseen.txt')).read().splitlines() == [
        'red wavy ground', 'blue disc']
