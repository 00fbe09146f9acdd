"""OpenWorldDataset: the generated open world's scenes, read under a chosen vocabulary.

The world (``tools/make_open_world_data.py --out OUT``) writes its scenes in mmseg's plain
layout under ``OUT/scenes``: ``img_dir/<split>/NNNNN.png``, ``ann_dir/<split>/NNNNN.png``
(uint8 global class ids, 255 = ignore) and ``split.json``, which lists every class in global
id order and which of them are seen (in training masks) and unseen.

A config registers the dataset with
``custom_imports=dict(imports=['coseg_mmseg', 'coseg_tools.open_world.dataset'])``.
"""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from coseg_mmseg.utils.errors import UserError

VOCABULARIES = ('seen', 'unseen', 'all')
SPLIT_FILE = 'split.json'


def read_split(data_root: str) -> dict:
    """The world's ``split.json`` under ``data_root``, checked.

    Returns:
        The parsed file: ``classes`` (all K names, index = global id), ``seen`` and
        ``unseen`` (disjoint lists of names of ``classes``), and what else it holds.

    Raises:
        FileNotFoundError: No ``split.json`` under ``data_root``.
        UserError: The file is no JSON or its lists do not fit together.
    """
    path = osp.join(data_root, SPLIT_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(
            2, f'No such file or directory (the open world\'s split; make it with '
               f'tools/make_open_world_data.py --out {osp.dirname(osp.normpath(data_root))})',
            path)
    try:
        with open(path) as f:
            split = json.load(f)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f'{path} is no JSON file ({exc}); delete the world and make it again '
                        f'with tools/make_open_world_data.py') from exc
    for key in ('classes', 'seen', 'unseen'):
        if not isinstance(split.get(key), list):
            raise UserError(f'{path} has no list "{key}"; make the world again with '
                            f'tools/make_open_world_data.py')
    classes = split['classes']
    unknown = [c for c in split['seen'] + split['unseen'] if c not in classes]
    both = sorted(set(split['seen']) & set(split['unseen']))
    if unknown or both or len(set(classes)) != len(classes):
        raise UserError(f'{path} is inconsistent (names not in "classes": {unknown[:3]}, both '
                        f'seen and unseen: {both[:3]}); make the world again')
    return split


@DATASETS.register_module()
class OpenWorldDataset(BaseSegDataset):
    """The open world's scenes under the vocabulary of a protocol.

    The dataset's classes (``metainfo['classes']``, which ``CoSegVocabularyHook`` hands to
    the model as its vocabulary, and the metric indexes) are the names of ``vocabulary``, in
    global id order. Label values are mapped from global ids to indices of that list; pixels
    of classes outside it become 255 (ignored). With ``vocabulary='all'`` the metainfo also
    holds ``seen_classes`` and ``unseen_classes`` for :class:`SeenUnseenIoUMetric`.

    Args:
        vocabulary: ``'seen'`` (training; also the closed-set test), ``'unseen'`` (the
            cross-vocabulary test) or ``'all'`` (the generalized test).
        data_root: The world's ``OUT/scenes`` folder, holding ``split.json``.
        img_suffix: Image file suffix (the world writes PNG).
        seg_map_suffix: Label map suffix.
        **kwargs: :class:`mmseg.datasets.BaseSegDataset`'s other arguments
            (``data_prefix``, ``pipeline``, ``indices``, ...). ``metainfo`` may not set
            ``classes``: they follow ``vocabulary``.
    """

    def __init__(self, *, vocabulary: str = 'seen', data_root: Optional[str] = None,
                 img_suffix: str = '.png', seg_map_suffix: str = '.png',
                 metainfo: Optional[dict] = None, **kwargs) -> None:
        if vocabulary not in VOCABULARIES:
            raise UserError(f'OpenWorldDataset: vocabulary={vocabulary!r} is none of '
                            f'{VOCABULARIES}; set the dataset\'s vocabulary to one of them')
        if data_root is None:
            raise UserError('OpenWorldDataset needs data_root (the world\'s OUT/scenes folder, '
                            'holding split.json)')
        metainfo = dict(metainfo or {})
        if 'classes' in metainfo:
            raise UserError('OpenWorldDataset: metainfo.classes is set by the vocabulary '
                            f'({VOCABULARIES}); delete metainfo.classes from the config')
        split = read_split(data_root)
        self.vocabulary = vocabulary
        self.global_classes = tuple(split['classes'])
        chosen = set(split[vocabulary]) if vocabulary != 'all' else set(self.global_classes)
        # Global id order, whatever order the split lists them in.
        names = [c for c in self.global_classes if c in chosen]
        metainfo['classes'] = tuple(names)
        seen = set(split['seen'])
        metainfo['seen_classes'] = tuple(c for c in names if c in seen)
        metainfo['unseen_classes'] = tuple(c for c in names if c not in seen)
        metainfo['split_seed'] = split.get('split_seed')
        super().__init__(data_root=data_root, img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, metainfo=metainfo, **kwargs)

    def get_label_map(self, new_classes: Optional[Sequence[str]] = None) -> Dict[int, int]:
        """Global id -> index in the vocabulary, 255 for every class outside it.

        (mmseg's ``BaseSegDataset`` calls this while it is initialised; ``LoadAnnotations``
        applies the map to every label map.)
        """
        names: List[str] = list(new_classes)
        return {gid: (names.index(name) if name in names else 255)
                for gid, name in enumerate(self.global_classes)}
