"""What bash's syntax check (``bash -n`` per script) costs, against baselines of the same run (by hand).

Each round times, over the shipped examples (and a 2,000-line script), interleaved so that load
changes hit all of them alike:

* ``true``: starting ``/bin/true`` (the floor of any child process on this machine);
* ``parse``: the plugin's own reader of the script (``parse_script``);
* ``bash -n``: :func:`script.syntax.bash_syntax_problem`, as each item calls it.

Printed: ms per script (median of the rounds) and ``bash -n`` as a ratio to each baseline; the
plugin's whole per-script cost is in docs/benchmarks.md section 6 (4-8 ms of CPU, ~1.15 x xdist).

    python bench/syntax_check.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_usacloud_sandbox.script.parse import parse_script, read_script_text  # noqa: E402
from pytest_usacloud_sandbox.script.syntax import bash_syntax_problem, find_bash  # noqa: E402


def _per_script(fn, paths) -> float:
    start = time.perf_counter()
    for path in paths:
        fn(path)
    return (time.perf_counter() - start) / len(paths) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bash = find_bash()
    print(f"bash: {bash}; load: {os.getloadavg()[0]:.1f}; cpus: {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="syntax-bench-") as tmp:
        big = Path(tmp) / "big.usacloud"
        big.write_text("".join(f"usacloud switch create -y --name sw{i} --tags run=1\n" for i in range(2000)))
        sets = {
            "examples": sorted((ROOT / "examples").glob("*.usacloud")),
            "2,000-line script": [big],
        }
        for label, paths in sets.items():
            rows: dict[str, list[float]] = {"true": [], "parse": [], "bash -n": []}
            for _ in range(args.rounds):
                rows["true"].append(_per_script(lambda p: subprocess.run(["/bin/true"], check=False), paths))
                rows["parse"].append(_per_script(lambda p: parse_script(read_script_text(p)), paths))
                rows["bash -n"].append(_per_script(lambda p: bash_syntax_problem(p, bash=bash), paths))
            median = {name: statistics.median(values) for name, values in rows.items()}
            print(f"\n{label} ({len(paths)} scripts, {args.rounds} rounds): ms per script, median")
            for name, value in median.items():
                print(f"  {name:8s} {value:7.2f} ms")
            print(
                f"  bash -n / true = {median['bash -n'] / median['true']:.2f}; "
                f"bash -n / parse = {median['bash -n'] / median['parse']:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
