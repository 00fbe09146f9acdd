#!/usr/bin/env bash
# Testing on a slurm cluster, mmseg's interface:
#   tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
# (CHECKPOINT may be "" for models whose weights all come from init_cfg, e.g. the baseline.)
# Variables: GPUS (tasks in all, default 4), GPUS_PER_NODE (default 4), CPUS_PER_TASK (default 5),
# SRUN_ARGS (more srun options), MASTER_PORT (default 29500). Interpreter: PYTHON (default python).
# Each srun task runs tools/test.py --launcher slurm; mmengine reads its rank from SLURM_*.
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "error: usage: tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python}
export PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}"
# shellcheck disable=SC2086
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$HERE/test.py" "$CONFIG" ${CHECKPOINT:+"$CHECKPOINT"} --launcher=slurm "${@:5}"
