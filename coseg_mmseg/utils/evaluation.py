"""One test run through mmengine's Runner: what tools/test.py and tools/zero_shot_eval.py share."""
from typing import Dict, Optional

from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

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
    """
    try:
        runner.load_checkpoint(checkpoint, map_location='cpu', strict=True)
    except RuntimeError as exc:
        details = '; '.join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise ValueError(f'checkpoint {checkpoint!r} does not fit the model of {config}: '
                         f'{details[:1500]}') from None


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
    """
    runner = Runner.from_cfg(cfg)
    if checkpoint is None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        model.init_weights()
    else:
        load_checkpoint_strictly(runner, checkpoint, config)
    return runner.test()
