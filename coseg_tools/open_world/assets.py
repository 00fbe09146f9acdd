"""Everything ``tools/make_open_world_data.py`` writes, made or reused.

``OUT/clip`` and ``OUT/clip_random_text`` depend on the world and the CLIP seed only (not on
the split) and are reused when their record (``coseg_world.json``) matches the arguments;
``OUT/scenes`` holds one split's scenes and is reused when its record (``scenes.json``)
matches. Anything else already there is refused with one line, or rebuilt with ``force``.
"""
import json
import os
import shutil
from typing import Callable, Dict, Optional

from coseg_tools.cli import UserError

from . import world

SCENES_RECORD = 'scenes.json'
SCENES_VERSION = 1


def _clip_matches(clip_dir: str, wanted: Dict) -> Optional[bool]:
    """None: nothing there; True: a CLIP made with ``wanted``; False: something else."""
    from .clip_pretraining import read_record
    if not os.path.exists(clip_dir):
        return None
    record = read_record(clip_dir)
    if record is None or not os.path.isfile(os.path.join(clip_dir, 'config.json')):
        return False
    return all(record.get(k) == v for k, v in wanted.items())


def make_open_world(out: str, *, clip_seed: int = 0, split_seed: int = 0,
                    unseen_fraction: float = 0.25, num_train: int = 600, num_val: int = 100,
                    force: bool = False, clip_args: Optional[Dict] = None,
                    log: Callable[[str], None] = print) -> Dict[str, str]:
    """Write (or reuse) the open world under ``out``; return the paths written.

    Args:
        out: The output folder (``data/open_world``).
        clip_seed: Seed of the CLIP pretraining.
        split_seed, unseen_fraction: The seen / unseen split (:func:`world.make_split`).
        num_train, num_val: Scenes of ``train`` and of each validation part.
        force: Rebuild what exists but was made with other arguments (else refused).
        clip_args: Pretraining arguments other than the seed (tests shorten it).

    Raises:
        UserError: a bad argument, or files of other arguments without ``force``.
    """
    from .clip_pretraining import make_world_clips, wanted_record
    if num_train < 1 or num_val < 1:
        raise UserError(f'--num-train and --num-val must be at least 1, got {num_train} and '
                        f'{num_val}')
    try:
        split = world.make_split(split_seed, unseen_fraction)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    paths = dict(clip=os.path.join(out, 'clip'),
                 clip_random_text=os.path.join(out, 'clip_random_text'),
                 scenes=os.path.join(out, 'scenes'))
    wanted = wanted_record(clip_seed, **(clip_args or {}))
    states = [_clip_matches(paths[k], wanted) for k in ('clip', 'clip_random_text')]
    if states != [True, True]:
        if False in states and not force:
            bad = paths['clip'] if states[0] is False else paths['clip_random_text']
            raise UserError(f'{bad} holds a CLIP made with other arguments than --clip-seed '
                            f'{clip_seed} and this version\'s pretraining (see its '
                            f'coseg_world.json); pass --force to retrain it, or use another --out')
        for key in ('clip', 'clip_random_text'):
            shutil.rmtree(paths[key], ignore_errors=True)
        log(f'training the world CLIP (seed {clip_seed}) ...')
        record = make_world_clips(paths['clip'], paths['clip_random_text'], seed=clip_seed,
                                  log=log, **(clip_args or {}))
        log(f"world CLIP trained in {record['stats']['train_seconds']} s")
    else:
        log(f"reusing {paths['clip']} (same arguments)")
    scenes = dict(format_version=SCENES_VERSION, split_seed=int(split_seed),
                  unseen_fraction=float(unseen_fraction), num_train=int(num_train),
                  num_val=int(num_val), classes=list(world.CLASSES))
    record_path = os.path.join(paths['scenes'], SCENES_RECORD)
    if os.path.exists(paths['scenes']):
        found = None
        if os.path.isfile(record_path):
            with open(record_path) as f:
                found = json.load(f)
        if found == scenes:
            log(f"reusing {paths['scenes']} (same split and counts)")
            return paths
        if not force:
            what = ('scenes of another split or other counts' if found else
                    'files that are not this tool\'s scenes')
            raise UserError(f"{paths['scenes']} holds {what} (see its {SCENES_RECORD}); pass "
                            f'--force to rebuild it, or use another --out')
        shutil.rmtree(paths['scenes'])
    log(f'drawing scenes of split seed {split_seed} ({len(split["unseen"])} unseen classes) ...')
    world.write_scenes(paths['scenes'], split, num_train=num_train, num_val=num_val,
                       seed=split_seed)
    with open(record_path, 'w') as f:
        json.dump(scenes, f, indent=1)
    return paths
