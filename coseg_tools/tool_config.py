"""The config handling shared by tools/train.py and tools/test.py (mmseg's conventions)."""
import difflib
import inspect
import os.path as osp
from typing import Any, Iterable, Optional, Set

from mmengine.config import Config

from coseg_mmseg.utils.config_check import check_removed_options, removed_option
from coseg_mmseg.utils.errors import UserError


def load_tool_config(config: str, *, launcher: str, cfg_options: Optional[dict],
                     work_dir: Optional[str]) -> Config:
    """Load ``config``, apply ``--cfg-options``, set the launcher and the work dir.

    The work dir is ``--work-dir``, else the config's ``work_dir``, else
    ``./work_dirs/<config name>``.

    Raises:
        UserError: The config file does not exist, holds an option the plugin does not take
            (:func:`~coseg_mmseg.utils.config_check.check_removed_options`), a
            ``--cfg-options`` key names nothing in it (see :func:`check_cfg_options`), or the
            model's vocabulary is not one.
    """
    cfg = load_config(config)
    check_removed_options(cfg._cfg_dict, config)
    cfg.launcher = launcher
    if cfg_options is not None:
        check_cfg_options(cfg, cfg_options, config)
        cfg.merge_from_dict(cfg_options)
    check_vocabularies(cfg, config)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    return cfg


def load_config(config: str) -> Config:
    """``Config.fromfile``, with a one-line error for a missing or non-Python config file."""
    if not osp.isfile(config):
        where = f' (working directory: {osp.abspath(".")})' if not osp.isabs(config) else ''
        raise UserError(f'config file {config!r} does not exist{where}; give the path of a '
                        f'config, e.g. configs/coseg/coseg_prefix_cocostuff.py')
    if not config.endswith(('.py', '.json', '.yaml', '.yml')):
        raise UserError(f'config file {config!r} is not a config (.py, .json or .yaml): did '
                        f'you swap the config and the checkpoint?')
    return Config.fromfile(config)


def check_vocabularies(cfg: Config, config: str) -> None:
    """Refuse a ``model.vocabulary`` / ``model.test_vocabulary`` that is not a vocabulary,
    before anything is built (the model would raise it from deep inside the runner).

    Raises:
        UserError: Naming the key, its value and what is wrong with it.
    """
    from coseg_mmseg.datasets.vocabularies import parse_vocabulary
    model = cfg.get('model') or {}
    for key in ('vocabulary', 'test_vocabulary'):
        value = model.get(key) if isinstance(model, dict) else None
        if value is None:
            continue
        try:
            parse_vocabulary(value, what=f'model.{key}')
        except (ValueError, TypeError, FileNotFoundError) as exc:
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + '...'
            raise UserError(f'model.{key}={shown} in {config}: {exc}') from exc


def _component_args(type_name: Any) -> Optional[Set[str]]:
    """The argument names the registered component ``type_name`` accepts; None if unknown.

    The names of every ``__init__`` along the class's MRO count (mmseg's components pass
    ``**kwargs`` up to a base that names them). A type no mmseg registry knows gives None.
    """
    import mmseg.registry as registries
    from mmengine.registry import Registry
    from torch import nn
    target = type_name if callable(type_name) else None
    if target is None:
        for name in dir(registries):
            registry = getattr(registries, name)
            if isinstance(registry, Registry):
                try:
                    target = registry.get(type_name)
                except Exception:  # noqa: BLE001  (a registry that cannot resolve it)
                    target = None
                if target is not None:
                    break
    if target is None:
        return None
    functions = ([c.__init__ for c in inspect.getmro(target) if c not in (object, nn.Module)]
                 if inspect.isclass(target) else [target])
    names: Set[str] = set()
    for function in functions:
        try:
            names.update(inspect.signature(function).parameters)
        except (TypeError, ValueError):
            return None
    return names - {'self', 'args', 'kwargs'}


def _runner_args() -> Set[str]:
    """The top-level keys mmengine's ``Runner.from_cfg`` reads."""
    from mmengine.runner import Runner
    return set(inspect.signature(Runner.__init__).parameters) - {'self'}


def _suggest(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted({str(k) for k in known}), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ''


def check_cfg_options(cfg: Config, options: dict, config: str) -> None:
    """Refuse a ``--cfg-options`` key that names nothing in the config.

    mmengine's ``merge_from_dict`` adds unknown keys silently, so a typo
    (``model.decode_head.mask_treshold=0.5``) would be ignored. A key is accepted when every
    part of its path exists in the config, or when the first missing part is an argument of
    the component (``type=...``) that holds it — a default the config does not spell out — or,
    at the top level, an argument of mmengine's ``Runner``. A component of a type no mmseg
    registry knows accepts any argument; a plain dict (``randomness``, ``model.test_cfg``:
    nothing says what it may hold) any key but one close to a key it has (a likely typo).

    Raises:
        UserError: Naming the key, the config and the closest existing keys.
    """
    for full_key in options:
        if full_key.split('.')[-1] == '_delete_':  # mmengine's "replace, do not merge"
            continue
        node: Any = cfg._cfg_dict
        path = []
        for part in full_key.split('.'):
            where = '.'.join(path) or 'the top level'
            if isinstance(node, (list, tuple)):
                if not (part.isdigit() and int(part) < len(node)):
                    raise UserError(f'--cfg-options key {full_key!r}: {where} is a list of '
                                    f'{len(node)} items, {part!r} is not an index of it '
                                    f'(config {config})')
                node = node[int(part)]
            elif isinstance(node, dict):
                if part in node:
                    node = node[part]
                else:
                    owner = f" ({node['type']})" if path and 'type' in node else ''
                    retired = removed_option(node, part) if path else None
                    if retired is not None:
                        raise UserError(f'--cfg-options key {full_key!r}: {where}{owner} '
                                        f'option {part!r} {retired}')
                    if not path:
                        accepted = _runner_args()
                    elif 'type' in node:
                        accepted = _component_args(node['type'])
                    elif _suggest(part, node):  # a plain dict: refuse only a likely typo
                        accepted = set()
                    else:
                        accepted = None
                    if accepted is None or part in accepted:
                        break
                    raise UserError(
                        f'--cfg-options key {full_key!r} does not exist in {config}: '
                        f'{where}{owner} has no {part!r}'
                        f'{_suggest(part, list(node) + sorted(accepted))} '
                        f'(keys there: {", ".join(sorted(map(str, node)))[:200]})')
            else:
                raise UserError(f'--cfg-options key {full_key!r}: {where} in {config} is '
                                f'{type(node).__name__} {node!r}, not a dict, so it has no '
                                f'{part!r}')
            path.append(part)
