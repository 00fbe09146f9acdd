#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv/ and install everything.
#
# Idempotent: when .venv/ already holds what requirements/ asks for, it returns in seconds.
#
# The only hard part is mmcv 2.1.0 (the last release mmseg 1.2.2 accepts): PyPI has it only
# as a source package, whose setup.py forces -std=c++17 while torch 2.14's headers need
# C++20. We reuse an already built wheel when one is found, in this order:
#   1. $COSEG_WHEEL_DIR                    (a folder of wheels you name)
#   2. ../shared/wheels/                   (beside the checkout, when present)
#   3. ~/.cache/coseg-mmseg/wheels/        (where this script keeps the wheels it builds)
#   4. pip's own wheel cache               (`pip cache list mmcv`)
# and otherwise build it from the source package (about 7 minutes on 2 cores with ninja).
# COSEG_BUILD_MMCV=1 skips the look-up and always builds.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${COSEG_VENV:-$ROOT/.venv}
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
BUILT_WHEELS=${XDG_CACHE_HOME:-$HOME/.cache}/coseg-mmseg/wheels
MMCV_VERSION=2.1.0

log() { printf '[setup] %s\n' "$*"; }

stamp_of() {
  # Everything that decides what goes into the environment.
  cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" "$0" | sha256sum | cut -d' ' -f1
}

if [ -f "$VENV/.coseg-stamp" ] && [ "$(cat "$VENV/.coseg-stamp")" = "$(stamp_of)" ]; then
  log "environment $VENV is up to date"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip)
export PIP_DISABLE_PIP_VERSION_CHECK=1

log "pip"
"${PIP[@]}" install -q --upgrade pip

log "torch and torchvision"
"${PIP[@]}" install -q -r "$ROOT/requirements/torch.txt"

find_mmcv_wheel() {
  [ "${COSEG_BUILD_MMCV:-0}" = 1 ] && return 0
  local dir
  for dir in "${COSEG_WHEEL_DIR:-}" "$ROOT/../shared/wheels" "$BUILT_WHEELS"; do
    [ -n "$dir" ] && [ -d "$dir" ] || continue
    ls "$dir"/mmcv-"$MMCV_VERSION"-cp3*-linux_*.whl 2>/dev/null | head -n 1 && return 0
  done
  "${PIP[@]}" cache list "mmcv-$MMCV_VERSION" --format abspath 2>/dev/null | grep -m1 '\.whl$' || true
}

build_mmcv_wheel() {
  # mmcv's setup.py hard-codes -std=c++17; torch >= 2.14 headers require C++20.
  local work
  work=$(mktemp -d)
  log "building mmcv $MMCV_VERSION from source (minutes); log: $work/build.log"
  # pip warns here that torch wants setuptools >= 77: the runtime step puts it back after the build.
  "${PIP[@]}" install -q -r "$ROOT/requirements/build.txt"
  # --no-build-isolation: preparing its metadata needs the pkg_resources installed just above.
  "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation -d "$work" \
    "mmcv==$MMCV_VERSION"
  tar -xzf "$work"/mmcv-"$MMCV_VERSION".tar.gz -C "$work"
  sed -i 's/-std=c++17/-std=c++20/g' "$work/mmcv-$MMCV_VERSION/setup.py"
  mkdir -p "$BUILT_WHEELS"
  (cd "$work/mmcv-$MMCV_VERSION" && MAX_JOBS=${MAX_JOBS:-$(nproc)} MMCV_WITH_OPS=1 \
    "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$BUILT_WHEELS" . >"$work/build.log" 2>&1) \
    || { tail -n 40 "$work/build.log"; log "mmcv build failed; full log: $work/build.log"; exit 1; }
  rm -rf "$work"
}

if "$VENV/bin/python" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" >/dev/null 2>&1; then
  log "mmcv $MMCV_VERSION (full) already installed"
else
  wheel=$(find_mmcv_wheel)
  if [ -z "$wheel" ]; then
    build_mmcv_wheel
    wheel=$(COSEG_BUILD_MMCV=0 find_mmcv_wheel)
  fi
  log "mmcv from $wheel"
  "${PIP[@]}" install -q --no-deps "$wheel"
fi

log "runtime and test requirements"
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt"

log "coseg_mmseg (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"

"$VENV/bin/python" - <<'EOF'
import mmcv.ops, mmseg.models, open_clip, transformers  # noqa: F401  fail here, not in a test
import coseg_mmseg  # noqa: F401
print('[setup] imports ok')
EOF
stamp_of >"$VENV/.coseg-stamp"
log "done: $VENV"
