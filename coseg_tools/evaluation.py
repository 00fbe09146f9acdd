"""One test run through mmengine's Runner: what tools/test.py and tools/zero_shot_eval.py share."""
from typing import Dict, Optional

from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from .checkpoint_check import explain_load_error
from .data_check import explain_data_error

# The parts of a config that only training or validation use.
_TRAIN_VAL_KEYS = ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler',
                   'val_dataloader', 'val_cfg', 'val_evaluator')


def as_test_config(cfg: Config) -> Config:
    """Keep only what a test run needs, in place: mmengine then builds the test loop alone.

    The zero-shot configs inherit mmseg's dataset bases, which also define a training loader
    and a validation loader without their loops; mmengine's Runner refuses such a config ("should
    be either all None or not None"). A test run needs neither, so they are removed, and the
    test loop defaults to mmengine's ``TestLoop``.

    Returns:
        ``cfg``.
    """
    for key in _TRAIN_VAL_KEYS:
        cfg[key] = None
    if cfg.get('test_cfg') is None:
        cfg.test_cfg = dict(type='TestLoop')
    return cfg


def load_checkpoint_strictly(runner: Runner, checkpoint: str, config: str) -> None:
    """Load every weight of the model from ``checkpoint``, or fail naming what does not fit.

    mmengine's runner loads non-strictly and only prints mismatches: a checkpoint of another
    architecture would then be evaluated with random weights in its place.

    Raises:
        UserError: The file is no checkpoint, or its weights do not fit (counted, the first
            keys named).
    """
    try:
        runner.load_checkpoint(checkpoint, map_location='cpu', strict=True)
    except Exception as exc:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        model = getattr(model, 'module', model)  # the segmentor inside a --tta model
        error = explain_load_error(exc, checkpoint, f'the {type(model).__name__} of {config}')
        if error is None:
            raise
        raise error from exc


def run_test(cfg: Config, checkpoint: Optional[str], config: str) -> Dict[str, float]:
    """Build the Runner from ``cfg``, load the weights, run the test loop.

    Args:
        cfg: A config ready for ``Runner.from_cfg`` (work dir, launcher and, in a distributed
            run without CUDA, ``prepare_distributed`` already applied).
        checkpoint: The weights to load strictly; ``None`` loads those the model's ``init_cfg``
            names (the no-training baseline's pretrained CLIP and CLIPSeg).
        config: The config's path, for error messages.

    Returns:
        The test evaluator's metrics (``aAcc``, ``mIoU``, ``mAcc`` for mmseg's ``IoUMetric``),
        the same on every rank.

    Raises:
        UserError: A checkpoint that does not fit, or a dataset file that cannot be read.
    """
    runner = Runner.from_cfg(cfg)
    if checkpoint is None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        model.init_weights()
    else:
        load_checkpoint_strictly(runner, checkpoint, config)
    try:
        return runner.test()
    except Exception as exc:  # noqa: BLE001  (re-raised unless it is a bad dataset file)
        error = explain_data_error(exc, cfg)
        if error is None:
            raise
        raise error from exc
