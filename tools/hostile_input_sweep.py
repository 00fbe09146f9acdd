"""Run the hostile-input sweep: every case of ``coseg_tools/hostile/`` (crafted checkpoints and
files, bad requests), each in a scratch folder; print "N tried, M handled" and each case not
handled.

Usage:
    python tools/hostile_input_sweep.py [--only TEXT] [--debug]

Exit status 0 when every case is handled, 1 otherwise. Slow (each case starts the tools): not
part of ``make test``; its last run is in docs/benchmarks/hostile_input_sweep.txt.
"""
import argparse
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from coseg_tools.cli import add_debug_argument, run_tool  # noqa: E402
from coseg_tools.hostile import Outcome, collect_cases, run_cases  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--only', default='',
                        help='run the cases whose module or name holds this text')
    add_debug_argument(parser)
    args = parser.parse_args()
    cases = collect_cases(args.only)
    start = time.time()

    def report(outcome: Outcome) -> None:
        mark = 'handled  ' if outcome.handled else 'NOT HANDLED'
        print(f'{mark} [{outcome.module}] {outcome.name}: {outcome.detail}', flush=True)

    outcomes = run_cases(cases, report)
    missed = [o for o in outcomes if not o.handled]
    print(f'{len(outcomes)} tried, {len(outcomes) - len(missed)} handled '
          f'({time.time() - start:.0f} s)')
    for outcome in missed:
        print(f'  not handled: [{outcome.module}] {outcome.name}: {outcome.detail}')
    return 1 if missed else 0


if __name__ == '__main__':
    run_tool(main)
