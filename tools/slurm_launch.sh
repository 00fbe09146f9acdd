#!/usr/bin/env bash
# What tools/slurm_train.sh and tools/slurm_test.sh share: one srun step of TOOL (train.py or
# test.py) with --launcher slurm, as mmseg's slurm scripts run it:
#   tools/slurm_launch.sh TOOL PARTITION JOB_NAME [TOOL's arguments]
# Variables: GPUS (tasks in all, default 4), GPUS_PER_NODE (default 4), CPUS_PER_TASK (default 5),
# SRUN_ARGS (more srun options), MASTER_PORT (default 29500). Interpreter: PYTHON (default python).
# Each task's rank comes from the SLURM_* variables srun sets (mmengine's slurm launcher).
set -euo pipefail
TOOL=$1
PARTITION=$2
JOB_NAME=$3
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python}
export PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}"
# SRUN_ARGS is split into words on purpose (several srun options in one variable).
# shellcheck disable=SC2086
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$HERE/$TOOL" "${@:4}"
