#!/usr/bin/env bash
# Training on a slurm cluster, mmseg's interface:
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
# Variables: GPUS (tasks in all, default 4), GPUS_PER_NODE (default 4), CPUS_PER_TASK (default 5),
# SRUN_ARGS (more srun options), MASTER_PORT (default 29500), PYTHON (default python); the srun
# step itself: tools/slurm_launch.sh.
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "error: usage: tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]" >&2
    exit 2
fi
exec bash "$(dirname "$0")/slurm_launch.sh" train.py "$1" "$2" "$3" --work-dir="$4" \
    --launcher=slurm "${@:5}"
