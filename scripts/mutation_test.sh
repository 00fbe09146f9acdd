#!/usr/bin/env bash
# Mutation testing of the core model modules with mutmut (requirements/mutation.txt), driven by
# each module's fast unit tests only. Usage, from the repository root:
#
#   scripts/mutation_test.sh GROUP [GROUP ...]     GROUP: loss targets naming neck adapter head
#   scripts/mutation_test.sh all
#
# Each group runs in its own scratch copy, build/mutation/GROUP/ (git-ignored), so the worktree
# is never modified; its summary is printed and appended to build/mutation/GROUP/summary.txt.
# The report of record is docs/benchmarks/mutation_cpu.txt (that file says which command and
# groups made it). Runs niced (nice -n 15) on one child process: the machine is shared.
#
# mutmut does not mutate functions carrying a decorator other than staticmethod/classmethod;
# the scratch copy turns a module-level ``@torch.no_grad()`` into a call after the module's end
# (same behaviour) so that such a function is mutated too (the groups' modules have none at
# present: the set-matching assigner takes detached predictions instead).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
MUTMUT=${MUTMUT:-$(dirname "$PY")/mutmut}
if [ ! -x "$MUTMUT" ]; then
    echo "error: mutmut not found at $MUTMUT: pip install -r requirements/mutation.txt" >&2
    exit 2
fi

# group -> "modules (under coseg_mmseg/) | test files"
declare -A MODULES TESTS
MODULES[loss]="models/losses/coseg_loss.py"
TESTS[loss]="tests/models/losses/test_coseg_loss.py tests/models/losses/test_coseg_loss_all_ignore.py"
MODULES[targets]="models/assigners/area_ranked_assigner.py models/assigners/set_matching_assigner.py models/assigners/mask_bce_cost.py models/assigners/naming_cost.py"
TESTS[targets]="tests/models/assigners/test_area_ranked_assigner.py tests/models/assigners/test_set_matching_assigner.py tests/models/assigners/test_mask_bce_cost.py tests/models/assigners/test_naming_cost.py"
MODULES[naming]="models/utils/label_ids.py"
TESTS[naming]="tests/models/utils/test_label_ids.py"
MODULES[neck]="models/necks/coexistence_neck.py"
TESTS[neck]="tests/models/necks/test_coexistence_neck.py"
MODULES[adapter]="models/necks/feature_map_adapter.py"
TESTS[adapter]="tests/models/necks/test_feature_map_adapter.py"
MODULES[head]="models/decode_heads/film_clipseg_head.py"
TESTS[head]="tests/models/decode_heads/test_film_clipseg_head.py"
# Tests left out of the mutation runs: precision checks at the real batch size (seconds each,
# run in the ordinary suite), which would make every mutant of their functions slow.
declare -A LEAVE_OUT
LEAVE_OUT[loss]="real_batch or pure_float16"
ALL="loss targets naming neck adapter head"

groups=("$@")
if [ ${#groups[@]} -eq 0 ]; then
    echo "error: name a group ($ALL) or 'all'" >&2
    exit 2
fi
[ "${groups[0]}" = all ] && groups=($ALL)
for group in "${groups[@]}"; do
    if [ -z "${MODULES[$group]:-}" ]; then
        echo "error: unknown group '$group'; expected one of: $ALL, all" >&2
        exit 2
    fi
done

for group in "${groups[@]}"; do
    work=$ROOT/build/mutation/$group
    rm -rf "$work"
    mkdir -p "$work"
    cp -r "$ROOT/coseg_mmseg" "$ROOT/tests" "$ROOT/pytest.ini" "$work/"
    [ -d "$ROOT/coseg_tools" ] && cp -r "$ROOT/coseg_tools" "$work/"
    find "$work" -name __pycache__ -prune -exec rm -rf {} +
    # @torch.no_grad() on a module-level function -> the same wrapping after the module's end.
    for module in ${MODULES[$group]}; do
        "$PY" - "$work/coseg_mmseg/$module" <<'EOF'
import re, sys
path = sys.argv[1]
text = open(path).read()
names = re.findall(r'^@torch\.no_grad\(\)\ndef (\w+)\(', text, flags=re.M)
if names:
    text = re.sub(r'^@torch\.no_grad\(\)\n(?=def )', '', text, flags=re.M)
    text += ''.join(f'\n\n{n} = torch.no_grad()({n})\n' for n in names)
    open(path, 'w').write(text)
EOF
    done
    {
        echo "[mutmut]"
        echo "source_paths=coseg_mmseg"
        echo "only_mutate="
        for module in ${MODULES[$group]}; do echo "    coseg_mmseg/$module"; done
        echo "pytest_add_cli_args_test_selection="
        for t in ${TESTS[$group]}; do echo "    $t"; done
        # mutmut's default timeout (15 x the clean run + 1 s) is shorter than a forked pytest's
        # start on a loaded machine: every slow start would read as a timeout.
        echo "timeout_constant=60"
        echo "pytest_add_cli_args="
        echo "    -p"
        echo "    no:cacheprovider"
        echo "    -q"
        if [ -n "${LEAVE_OUT[$group]:-}" ]; then
            echo "    -k"
            echo "    not (${LEAVE_OUT[$group]})"
        fi
    } > "$work/setup.cfg"
    start=$(date +%s)
    # One thread: mutmut forks a process per mutant, and a child forked from a parent whose
    # OpenMP pool has run can block forever (seen once: docs/benchmarks/mutation_cpu.txt).
    (cd "$work" && PYTHONPATH=$work OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 15 "$MUTMUT" run --max-children 1 > run.log 2>&1) || {
        echo "error: mutmut failed for group $group; see $work/run.log" >&2
        tail -20 "$work/run.log" >&2
        exit 1
    }
    seconds=$(( $(date +%s) - start ))
    (cd "$work" && PYTHONPATH=$work "$MUTMUT" results --all true > results.txt 2>&1 || true)
    {
        echo "== group $group: ${MODULES[$group]} (tests: ${TESTS[$group]}), ${seconds} s"
        for module in ${MODULES[$group]}; do
            name=$(echo "coseg_mmseg/$module" | sed 's#/#.#g; s#\.py$##')
            total=$(grep -c "^ *$name\." "$work/results.txt" || true)
            killed=$(grep "^ *$name\." "$work/results.txt" | grep -c ': killed$' || true)
            echo "   $module: $killed of $total killed"
        done
        echo "   not killed:"
        grep -v ': killed$' "$work/results.txt" | sed 's/^ */     /' || true
    } | tee "$work/summary.txt"
done
