#!/usr/bin/env bash
# Training on a slurm cluster, mmseg's interface:
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
# Variables: GPUS (tasks in all, default 4), GPUS_PER_NODE (default 4), CPUS_PER_TASK (default 5),
# SRUN_ARGS (more srun options), MASTER_PORT (default 29500). Interpreter: PYTHON (default python).
# Each srun task runs tools/train.py --launcher slurm; mmengine reads its rank from SLURM_*.
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "error: usage: tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
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
    "$PYTHON" -u "$HERE/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher=slurm "${@:5}"
