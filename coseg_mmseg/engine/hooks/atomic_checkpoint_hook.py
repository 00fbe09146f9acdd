"""AtomicCheckpointHook: mmengine's CheckpointHook, but a kill at any moment leaves a run to resume.

mmengine 0.10's ``CheckpointHook`` deletes the oldest kept checkpoint *before* it writes the new
one, and points ``last_checkpoint`` at the new file before that file exists. With
``max_keep_ckpts=1`` a job killed during the write (SIGKILL, OOM, a pre-empted node) leaves no
checkpoint at all and a ``last_checkpoint`` naming a deleted file: ``--resume`` fails and the
run is lost. Here a save goes, in order:

1. write the new checkpoint to a temporary file in the same folder and fsync it (the
   ``atomic_local`` file backend, made the default for local folders);
2. publish it: rename it to its name, fsync the folder;
3. point ``last_checkpoint`` at it (written the same way);
4. only then delete the checkpoints beyond ``max_keep_ckpts``.

Whenever the job dies, ``last_checkpoint`` names a complete checkpoint: the new one, or the one
before it. The checkpoints a save was about to delete are recorded in the new checkpoint's
message hub (``pending_prune``) and deleted when a run resumes from it; temporaries a killed
save left behind (``.iter_N.pth*.tmp``, ``.last_checkpoint*.tmp``) are deleted when the next run
starts. The "best" checkpoint (``save_best``) is kept as mmengine keeps it.

Selected in configs with ``default_hooks.checkpoint.type='AtomicCheckpointHook'`` (the
schedules in ``configs/_base_/schedules`` do); every ``CheckpointHook`` argument works as
documented by mmengine.
"""
import os
import os.path as osp
import re
from collections import deque
from typing import List

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmseg.registry import HOOKS

from ...utils.atomic_local_backend import write_atomically

PENDING_KEY = 'pending_prune'


def _sync_folder(folder: str) -> None:
    """fsync a folder, so that a rename in it survives a crash (a no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that writes, publishes, points ``last_checkpoint``, then prunes.

    Args:
        backend_args: As mmengine's; ``None`` with a local ``out_dir`` selects
            ``dict(backend='atomic_local')`` (write to a temporary file, fsync, rename).
        **kwargs: Every other ``CheckpointHook`` argument.
    """

    def __init__(self, *args, backend_args=None, out_dir=None, file_client_args=None,
                 **kwargs) -> None:
        local = out_dir is None or '://' not in str(out_dir)
        if backend_args is None and file_client_args is None and local:
            backend_args = dict(backend='atomic_local')
        super().__init__(*args, out_dir=out_dir, file_client_args=file_client_args,
                         backend_args=backend_args, **kwargs)

    # ------------------------------------------------------------------ start of a run
    def before_train(self, runner) -> None:
        """mmengine's set-up, then delete what a killed save left: temporaries, and the
        checkpoints it was about to prune (read from the resumed checkpoint)."""
        super().before_train(runner)
        if not is_main_process():
            return
        self._remove_stale_temporaries(runner)
        info = runner.message_hub.runtime_info
        for step in list(info.get(PENDING_KEY) or []):
            if self.max_keep_ckpts > 0 and step not in self.keep_ckpt_ids:
                self._remove_step(step)
        runner.message_hub.update_info(PENDING_KEY, [])

    def _remove_stale_temporaries(self, runner) -> None:
        """Delete ``.{checkpoint name}XXXXXXXX.tmp`` / ``.last_checkpointXXXXXXXX.tmp`` files:
        the temporaries of :func:`write_atomically` (mkstemp's 8 random characters) that a
        killed save left. Other files are not touched."""
        name = re.escape(self.filename_tmpl).replace(re.escape('{}'), r'\d+')
        patterns = [(self.out_dir, re.compile(rf'\.{name}[a-z0-9_]{{8}}\.tmp')),
                    (runner.work_dir, re.compile(r'\.last_checkpoint[a-z0-9_]{8}\.tmp'))]
        for folder, pattern in patterns:  # out_dir is work_dir unless configured otherwise
            if not isinstance(folder, str) or '://' in folder or not osp.isdir(folder):
                continue
            for entry in os.listdir(folder):
                if pattern.fullmatch(entry):
                    try:
                        os.remove(osp.join(folder, entry))
                        runner.logger.info(f'removed {entry}, left by an interrupted save')
                    except OSError:
                        pass

    # ------------------------------------------------------------------ saving
    def _remove_step(self, step: int) -> None:
        path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(step))
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed saves folders
            self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Write and publish checkpoint ``step``, point ``last_checkpoint`` at it, then prune."""
        prune: List[int] = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            kept = list(self.keep_ckpt_ids) + [step]
            prune, kept = kept[:-self.max_keep_ckpts], kept[-self.max_keep_ckpts:]
            self.keep_ckpt_ids = deque(kept, self.max_keep_ckpts)
            runner.message_hub.update_info('keep_ckpt_ids', kept)
        # Saved inside the new checkpoint: a run resumed from it finishes the pruning.
        runner.message_hub.update_info(PENDING_KEY, prune)

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(  # 1-2: temporary file, fsync, rename
            self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        if isinstance(self.out_dir, str) and '://' not in self.out_dir:
            _sync_folder(self.out_dir)
        # 3: last_checkpoint names the new, complete checkpoint
        write_atomically(str(self.last_ckpt).encode(), osp.join(runner.work_dir,
                                                                'last_checkpoint'))
        _sync_folder(runner.work_dir)
        for old in prune:  # 4: only now
            self._remove_step(old)
        runner.message_hub.update_info(PENDING_KEY, [])
