#!/usr/bin/env bash
# Testing on a slurm cluster, mmseg's interface:
#   tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
# (CHECKPOINT may be "" for models whose weights all come from init_cfg, e.g. the baseline.)
# Variables: GPUS (tasks in all, default 4), GPUS_PER_NODE (default 4), CPUS_PER_TASK (default 5),
# SRUN_ARGS (more srun options), MASTER_PORT (default 29500), PYTHON (default python); the srun
# step itself: tools/slurm_launch.sh.
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "error: usage: tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]" >&2
    exit 2
fi
exec bash "$(dirname "$0")/slurm_launch.sh" test.py "$1" "$2" "$3" ${4:+"$4"} \
    --launcher=slurm "${@:5}"
