"""Vocabularies: the benchmarks' class names, and reading, checking and resolving any other.

Every place that takes a vocabulary — a config's ``model.vocabulary`` /
``model.test_vocabulary``, :meth:`CoSegBase.set_vocabulary`, the API, the demo's ``--vocab`` —
goes through :func:`parse_vocabulary`, which accepts

- a list of class names (``['sky', 'sea']``),
- a named vocabulary (``'voc20'``, ``'pascal_context_459'``: :data:`VOCABULARIES`),
- ``'@words.txt'``: a file with one name per line,
- comma-separated words as people type them (``'sky, sea, sand'``, or one word: ``'dog'``),

and returns a checked tuple (non-empty strings, at least one, no duplicates).

The benchmarks' names come from the reference lists of the datasets (same order as their label
ids), with run-on and technical names made into words: "pottedplant" -> "potted plant",
"wall-brick" -> "brick wall", "sky-other" -> "sky". Pascal Context 59 calls its class "table"
(the 459-class set's "table"), not VOC's "dining table".
"""
import os
import re
from typing import Dict, Sequence, Tuple, Union

VOC20 = (
    'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
    'dining table', 'dog', 'horse', 'motorbike', 'person', 'potted plant', 'sheep', 'sofa',
    'train', 'tv monitor',
)

PASCAL_CONTEXT_59 = (
    'aeroplane', 'bag', 'bed', 'bedclothes', 'bench', 'bicycle', 'bird', 'boat', 'book', 'bottle',
    'building', 'bus', 'cabinet', 'car', 'cat', 'ceiling', 'chair', 'cloth', 'computer', 'cow',
    'cup', 'curtain', 'dog', 'door', 'fence', 'floor', 'flower', 'food', 'grass', 'ground',
    'horse', 'keyboard', 'light', 'motorbike', 'mountain', 'mouse', 'person', 'plate', 'platform',
    'potted plant', 'road', 'rock', 'sheep', 'shelves', 'sidewalk', 'sign', 'sky', 'snow', 'sofa',
    'table', 'track', 'train', 'tree', 'truck', 'tv monitor', 'wall', 'water', 'window', 'wood',
)

PASCAL_CONTEXT_459 = (
    'accordion', 'aeroplane', 'air conditioner', 'antenna', 'artillery', 'ashtray', 'atrium',
    'baby carriage', 'bag', 'ball', 'balloon', 'bamboo weaving', 'barrel', 'baseball bat',
    'basket', 'basketball backboard', 'bathtub', 'bed', 'bedclothes', 'beer', 'bell', 'bench',
    'bicycle', 'binoculars', 'bird', 'bird cage', 'bird feeder', 'bird nest', 'blackboard',
    'board', 'boat', 'bone', 'book', 'bottle', 'bottle opener', 'bowl', 'box', 'bracelet',
    'brick', 'bridge', 'broom', 'brush', 'bucket', 'building', 'bus', 'cabinet', 'cabinet door',
    'cage', 'cake', 'calculator', 'calendar', 'camel', 'camera', 'camera lens', 'can', 'candle',
    'candle holder', 'cap', 'car', 'card', 'cart', 'case', 'casette recorder', 'cash register',
    'cat', 'cd', 'cd player', 'ceiling', 'cell phone', 'cello', 'chain', 'chair', 'chessboard',
    'chicken', 'chopstick', 'clip', 'clippers', 'clock', 'closet', 'cloth', 'clothes tree',
    'coffee', 'coffee machine', 'comb', 'computer', 'concrete', 'cone', 'container',
    'control booth', 'controller', 'cooker', 'copying machine', 'coral', 'cork', 'corkscrew',
    'counter', 'court', 'cow', 'crab stick', 'crane', 'crate', 'cross', 'crutch', 'cup',
    'curtain', 'cushion', 'cutting board', 'dais', 'disc', 'disc case', 'dishwasher', 'dock',
    'dog', 'dolphin', 'door', 'drainer', 'dray', 'drink dispenser', 'drinking machine', 'drop',
    'drug', 'drum', 'drum kit', 'duck', 'dumbbell', 'earphone', 'earrings', 'egg', 'electric fan',
    'electric iron', 'electric pot', 'electric saw', 'electronic keyboard', 'engine', 'envelope',
    'equipment', 'escalator', 'exhibition booth', 'extinguisher', 'eyeglass', 'fan', 'faucet',
    'fax machine', 'fence', 'ferris wheel', 'fire extinguisher', 'fire hydrant', 'fire place',
    'fish', 'fish tank', 'fishbowl', 'fishing net', 'fishing pole', 'flag', 'flagstaff', 'flame',
    'flashlight', 'floor', 'flower', 'fly', 'foam', 'food', 'footbridge', 'forceps', 'fork',
    'forklift', 'fountain', 'fox', 'frame', 'fridge', 'frog', 'fruit', 'funnel', 'furnace',
    'game controller', 'game machine', 'gas cylinder', 'gas hood', 'gas stove', 'gift box',
    'glass', 'glass marble', 'globe', 'glove', 'goal', 'grandstand', 'grass', 'gravestone',
    'ground', 'guardrail', 'guitar', 'gun', 'hammer', 'hand cart', 'handle', 'handrail', 'hanger',
    'hard disk drive', 'hat', 'hay', 'headphone', 'heater', 'helicopter', 'helmet', 'holder',
    'hook', 'horse', 'horse-drawn carriage', 'hot-air balloon', 'hydro valve', 'ice',
    'inflator pump', 'ipod', 'iron', 'ironing board', 'jar', 'kart', 'kettle', 'key', 'keyboard',
    'kitchen range', 'kite', 'knife', 'knife block', 'ladder', 'ladder truck', 'ladle', 'laptop',
    'leaves', 'lid', 'life buoy', 'light', 'light bulb', 'lighter', 'line', 'lion', 'lobster',
    'lock', 'machine', 'mailbox', 'mannequin', 'map', 'mask', 'mat', 'match book', 'mattress',
    'menu', 'metal', 'meter box', 'microphone', 'microwave', 'mirror', 'missile', 'model',
    'money', 'monkey', 'mop', 'motorbike', 'mountain', 'mouse', 'mouse pad', 'musical instrument',
    'napkin', 'net', 'newspaper', 'oar', 'ornament', 'outlet', 'oven', 'oxygen bottle', 'pack',
    'pan', 'paper', 'paper box', 'paper cutter', 'parachute', 'parasol', 'parterre', 'patio',
    'pelage', 'pen', 'pen container', 'pencil', 'person', 'photo', 'piano', 'picture', 'pig',
    'pillar', 'pillow', 'pipe', 'pitcher', 'plant', 'plastic', 'plate', 'platform', 'player',
    'playground', 'pliers', 'plume', 'poker', 'poker chip', 'pole', 'pool table', 'postcard',
    'poster', 'pot', 'potted plant', 'printer', 'projector', 'pumpkin', 'rabbit', 'racket',
    'radiator', 'radio', 'rail', 'rake', 'ramp', 'range hood', 'receiver', 'recorder',
    'recreational machines', 'remote control', 'road', 'robot', 'rock', 'rocket', 'rocking horse',
    'rope', 'rug', 'ruler', 'runway', 'saddle', 'sand', 'saw', 'scale', 'scanner', 'scissors',
    'scoop', 'screen', 'screwdriver', 'sculpture', 'scythe', 'sewer', 'sewing machine', 'shed',
    'sheep', 'shell', 'shelves', 'shoe', 'shopping cart', 'shovel', 'sidecar', 'sidewalk', 'sign',
    'signal light', 'sink', 'skateboard', 'ski', 'sky', 'sled', 'slippers', 'smoke', 'snail',
    'snake', 'snow', 'snowmobiles', 'sofa', 'spanner', 'spatula', 'speaker', 'speed bump',
    'spice container', 'spoon', 'sprayer', 'squirrel', 'stage', 'stair', 'stapler', 'stick',
    'sticky note', 'stone', 'stool', 'stove', 'straw', 'stretcher', 'sun', 'sunglass', 'sunshade',
    'surveillance camera', 'swan', 'sweeper', 'swim ring', 'swimming pool', 'swing', 'switch',
    'table', 'tableware', 'tank', 'tap', 'tape', 'tarp', 'telephone', 'telephone booth', 'tent',
    'tire', 'toaster', 'toilet', 'tong', 'tool', 'toothbrush', 'towel', 'toy', 'toy car', 'track',
    'train', 'trampoline', 'trash bin', 'tray', 'tree', 'tricycle', 'tripod', 'trophy', 'truck',
    'tube', 'turtle', 'tv monitor', 'tweezers', 'typewriter', 'umbrella', 'unknown',
    'vacuum cleaner', 'vending machine', 'video camera', 'video game console', 'video player',
    'video tape', 'violin', 'wakeboard', 'wall', 'wallet', 'wardrobe', 'washing machine', 'watch',
    'water', 'water dispenser', 'water pipe', 'water skate board', 'watermelon', 'whale', 'wharf',
    'wheel', 'wheelchair', 'window', 'window blinds', 'wine glass', 'wire', 'wood', 'wool',
)

COCO_STUFF = (
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
    'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog',
    'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella',
    'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite',
    'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
    'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich',
    'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
    'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote',
    'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book',
    'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush', 'banner', 'blanket',
    'branch', 'bridge', 'building', 'bush', 'cabinet', 'cage', 'cardboard', 'carpet', 'ceiling',
    'ceiling tile', 'cloth', 'clothes', 'clouds', 'counter', 'cupboard', 'curtain', 'desk',
    'dirt', 'door', 'fence', 'marble floor', 'floor', 'stone floor', 'tile floor', 'wooden floor',
    'flower', 'fog', 'food', 'fruit', 'furniture', 'grass', 'gravel', 'ground', 'hill', 'house',
    'leaves', 'light', 'mat', 'metal', 'mirror', 'moss', 'mountain', 'mud', 'napkin', 'net',
    'paper', 'pavement', 'pillow', 'plant', 'plastic', 'platform', 'playing field', 'railing',
    'railroad', 'river', 'road', 'rock', 'roof', 'rug', 'salad', 'sand', 'sea', 'shelf', 'sky',
    'skyscraper', 'snow', 'solid', 'stairs', 'stone', 'straw', 'structure', 'table', 'tent',
    'textile', 'towel', 'tree', 'vegetable', 'brick wall', 'concrete wall', 'wall', 'wall panel',
    'stone wall', 'tile wall', 'wooden wall', 'water', 'water drops', 'window blind', 'window',
    'wood',
)

COCO_OBJECT = COCO_STUFF[:80]  # COCO-Stuff's thing classes: ids 0-79, the same names

VOCABULARIES: Dict[str, Tuple[str, ...]] = {
    'voc20': VOC20,
    'pascal_context_59': PASCAL_CONTEXT_59,
    'pascal_context_459': PASCAL_CONTEXT_459,
    'coco_object': COCO_OBJECT,
    'coco_stuff': COCO_STUFF,
}


Vocabulary = Union[str, Sequence[str]]


def check_vocabulary(names: Sequence[str], *, what: str = 'vocabulary') -> Tuple[str, ...]:
    """Validate a list of class names: non-empty strings, at least one, no duplicates.

    Raises:
        TypeError, ValueError: Naming ``what`` and the offending entry.
    """
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f'{what} must be a list of class names, got {type(names).__name__}')
    names = tuple(names)
    if not names:
        raise ValueError(f'{what} is empty: give at least one class name')
    seen: Dict[str, int] = {}
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f'{what}[{i}] = {name!r} is not a non-empty string')
        if name in seen:
            raise ValueError(f'{what} has {name!r} twice (positions {seen[name]} and {i})')
        seen[name] = i
    return names


def _read_names_file(path: str, what: str) -> Tuple[str, ...]:
    if not path.endswith('.txt'):
        raise ValueError(f'{what} file {path!r}: expected a .txt file, one name per line')
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{what} file {path!r} does not exist')
    with open(path, encoding='utf-8') as f:
        return tuple(line.strip() for line in f if line.strip())


def _split_words(text: str, what: str) -> Tuple[str, ...]:
    if any(sep in text for sep in (';', '|', '\t', '\n')):
        raise ValueError(f'cannot read the {what} {text!r}: separate the words with commas '
                         f'("sky,sea,sand"), name a vocabulary ({", ".join(sorted(VOCABULARIES))})'
                         f' or give @file.txt')
    if ',' not in text and re.fullmatch(r'[a-z0-9]+(_[a-z0-9]+)+', text):
        raise ValueError(f'unknown vocabulary name {text!r}: known names are '
                         f'{", ".join(sorted(VOCABULARIES))}; a class name is written in words '
                         f'("{text.replace("_", " ")}")')
    names = tuple(word.strip() for word in text.split(','))
    if any(not word for word in names):
        raise ValueError(f'the {what} {text!r} has an empty name between commas')
    return names


def parse_vocabulary(vocabulary: Vocabulary, *, what: str = 'vocabulary') -> Tuple[str, ...]:
    """Resolve and check a vocabulary given in any of the forms the module docstring lists.

    Args:
        vocabulary: Names, a vocabulary name, ``'@file.txt'`` or comma-separated words.
        what: How error messages call it (``'model.test_vocabulary'``, ``'--vocab'``).

    Returns:
        The class names, in order.

    Raises:
        TypeError, ValueError, FileNotFoundError: One line naming the value and the fix.
    """
    if isinstance(vocabulary, str):
        text = vocabulary.strip()
        if text in VOCABULARIES:
            names = VOCABULARIES[text]
        elif text.startswith('@'):
            names = _read_names_file(text[1:], what)
        else:
            names = _split_words(text, what)
    else:
        names = vocabulary
    return check_vocabulary(names, what=what)
