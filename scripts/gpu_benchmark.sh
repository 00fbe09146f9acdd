#!/usr/bin/env bash
# The one prepared GPU check of issue 16, for a session lent a GPU machine (at most about 9
# minutes with the stack's installation: it fits one run's 10-minute limit).
#
# Here, once, from the project's root:   bash ../shared/scripts/prepare_device.sh
# Then one device run, carry [".device_stack"], timeout_s 600:
#   source .device_stack/activate.sh && bash scripts/gpu_benchmark.sh
# Raw outputs, each headed by its command and the machine, land in $OUT (8 files at most):
#   machine.txt, cuda_tests.txt, benchmark_table.txt, data_pipeline.txt,
#   benchmark_weights_bf16.txt, benchmark_compile.txt
# Copy them into docs/benchmarks/ (named after the chip) and quote figures from them alone.
# Every step has its own time limit, so the later ones still run if one hangs or fails.
set -uo pipefail
OUT=${OUT:?run on the device machine, where OUT is set}
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
day=$(date -u +%F)
gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null)
{
  echo "# $day; GPU: ${gpu:-none}; $(nproc) CPU cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  $PY - <<'PY'
import sys, torch, transformers, mmengine, mmseg
print(f'# python {sys.version.split()[0]}, torch {torch.__version__}, transformers '
      f'{transformers.__version__}, mmengine {mmengine.__version__}, mmseg {mmseg.__version__}')
PY
} > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"

# step NAME LIMIT_S COMMAND...: run COMMAND under a time limit into $OUT/NAME.txt, headed by the
# command line and the machine.
step() {
  local name=$1 limit=$2; shift 2
  { echo "# $(printf '%q ' "$@")"; cat "$OUT/machine.txt"; } > "$OUT/$name.txt"
  local start=$SECONDS
  timeout "$limit" "$@" >> "$OUT/$name.txt" 2>&1
  local rc=$?
  echo "# exit status $rc after $((SECONDS - start)) s (limit $limit s)" >> "$OUT/$name.txt"
  echo "$name: exit $rc, $((SECONDS - start)) s"
}

# 1. The CUDA paths of the test suite: the model on CUDA against CPU, the head and the
#    upsampling under autocast, the one-GPU configs through tools/train.py with their own
#    bf16 AmpOptimWrapper and fused Adam (tiny model), and `compile` against eager.
step cuda_tests 130 env COSEG_COMPILE_TESTS=1 $PY -m pytest -q -p no:cacheprovider \
  -k "cuda or one_gpu or compile" \
  tests/models/segmentors/test_coseg.py tests/models/decode_heads/test_film_clipseg_head.py \
  tests/models/utils/test_patch_deconv.py tests/test_one_gpu_configs.py \
  tests/coseg_tools/test_benchmarking.py

# 2. The throughput table: neck x fp32/fp16/bf16 x batch 8/32/64, each built from its shipped
#    config, against the 8192^3 bf16 matmul rate measured in the same run.
step benchmark_table 160 $PY tools/benchmarks/benchmark.py --device cuda --only table --repeats 8

# 3. The data path: per-worker images/s, plain against pre-resized, the feature cache's read
#    rate, and the DataLoader itself with 4, 8 and 15 workers on this machine's cores.
step data_pipeline 100 $PY tools/benchmarks/benchmark_data_pipeline.py --images 256 --repeats 3 \
  --cores "$(nproc)" --loader-workers 4 8 15 --loader-batches 30

# 4. The frozen CLIP held in bf16 (model.backbone.weights_dtype), bf16 batch 64, both necks:
#    against the table's bf16 batch-64 rows (same configs, same machine).
step benchmark_weights_bf16 60 $PY tools/benchmarks/benchmark.py --device cuda --only table --repeats 8 \
  --table-dtypes bfloat16 --table-batches 64 --table-options model.backbone.weights_dtype=bfloat16

# 5. torch.compile through the configs' `compile` key (what tools/train.py does with
#    --cfg-options compile=True), bf16 batch 64, CoSeg-Prefix then -Xatten; the time left.
left=$((490 - SECONDS)); [ "$left" -gt 45 ] || left=45
step benchmark_compile "$left" $PY tools/benchmarks/benchmark.py --device cuda --only table --repeats 8 \
  --table-compile --table-dtypes bfloat16 --table-batches 64
ls -l "$OUT"
