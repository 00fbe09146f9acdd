"""Options a config copied from mmseg would carry but this plugin does not take: refused with
what to do instead, wherever a config is read (``coseg_mmseg.apis.init_model``,
``tools/train.py``, ``tools/test.py``), before the component fails with a bare ``TypeError``."""
from typing import Any, Optional

from .errors import UserError

# Per registered type: option -> why it is not taken, and what to do instead.
REMOVED_OPTIONS = {'FiLMCLIPSegHead': {
    'num_classes': 'the classes follow the vocabulary in use (model.vocabulary, '
                   'model.test_vocabulary); delete it',
    'target_assignment': "moved to decode_head.train_cfg.assigner: 'area' is "
                         "dict(type='AreaRankedAssigner') (the default), 'hungarian' "
                         "dict(type='SetMatchingAssigner') (configs/_base_/models/"
                         "coseg_set-matching.py)",
    'matching_costs': 'moved to decode_head.train_cfg.assigner.match_costs: the weights of '
                      'MaskBCECost, DiceCost and NamingCost (configs/_base_/models/'
                      'coseg_set-matching.py)'}}


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
