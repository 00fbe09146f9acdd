"""Options a config copied from mmseg would carry but this plugin does not take: refused with
what to do instead, wherever a config is read (``coseg_mmseg.apis.init_model``,
``tools/train.py``, ``tools/test.py``), before the component fails with a bare ``TypeError``."""
from typing import Any, Optional

from .errors import UserError

# Per registered type: option -> why it is not taken, and what to do instead.
REMOVED_OPTIONS = {'FiLMCLIPSegHead': {
    'num_classes': 'the classes follow the vocabulary in use (model.vocabulary, '
                   'model.test_vocabulary); delete it'}}


def removed_option(node: dict, key: str) -> Optional[str]:
    """Why option ``key`` of the component ``node`` is not taken (:data:`REMOVED_OPTIONS`),
    else None."""
    kind = node.get('type')
    kind = kind if isinstance(kind, str) else getattr(kind, '__name__', None)
    why = REMOVED_OPTIONS.get(kind, {}).get(key)
    return None if why is None else f'is not taken by {kind}: {why}'


def check_removed_options(node: Any, config: str, path: str = '') -> None:
    """Refuse an option of :data:`REMOVED_OPTIONS` anywhere in a config.

    Raises:
        UserError: Naming the key, the config and what to do.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            why = removed_option(node, key)
            if why is not None:
                raise UserError(f'{path}{key} in {config} {why}')
            check_removed_options(value, config, f'{path}{key}.')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            check_removed_options(value, config, f'{path}{i}.')
