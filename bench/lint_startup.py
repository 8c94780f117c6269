"""``usacloud-lint`` start-up: the shipped examples checked, against ``python -c pass`` (run by hand).

Three commands, each run ``--runs`` times in turn (interleaved, so load changes hit all of them
alike) after one warm-up run each, with this interpreter and this checkout on ``PYTHONPATH``:

* **baseline**: ``python -c pass``, the interpreter's own start-up (``site`` and its ``.pth`` files);
* **lint**: ``python -m pytest_usacloud_sandbox examples/`` (what the ``usacloud-lint`` console
  script runs), its output thrown away;
* **dry-run**: ``python -m pytest --usacloud-scripts=examples --usacloud-dry-run -p no:cacheprovider``,
  the same check through pytest, for scale.

Bytecode is written to a private ``PYTHONPYCACHEPREFIX`` (the warm-up fills it), as an installed
wheel has its ``.pyc`` files; ``--cold`` measures without bytecode instead (every module compiled
on every start, as under ``PYTHONDONTWRITEBYTECODE=1`` in a checkout). Prints each command's median
wall time and the ratios lint / baseline and dry-run / lint.

    python bench/lint_startup.py [--runs 15] [--cold]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _e2e import ROOT, machine_info, median, pct


def timed(argv: list[str], env: dict, cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):  # the lint exits 1 on the examples' deliberate failures
        raise SystemExit(f"{argv} exited {done.returncode}: {done.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--cold", action="store_true", help="no bytecode: compile every module on every start")
    args = ap.parse_args()
    print(machine_info())
    with tempfile.TemporaryDirectory(prefix="lint-startup-") as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS")}
        env["PYTHONPATH"] = str(ROOT)
        if args.cold:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        commands = {
            "baseline": [sys.executable, "-c", "pass"],
            "lint": [sys.executable, "-m", "pytest_usacloud_sandbox", "examples"],
            "dry-run": [
                sys.executable,
                "-m",
                "pytest",
                "--usacloud-scripts=examples",
                "--usacloud-dry-run",
                "-p",
                "no:cacheprovider",
                "-q",
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for argv in commands.values():
            timed(argv, env, ROOT)  # warm-up: bytecode, page cache
        for _ in range(args.runs):
            for name, argv in commands.items():
                times[name].append(timed(argv, env, ROOT))
    med = {name: median(values) for name, values in times.items()}
    print(
        f"bytecode: {'none (--cold)' if args.cold else 'cached'}; {args.runs} runs each; load {os.getloadavg()[0]:.2f}"
    )
    for name, values in times.items():
        print(f"  {name:<9} median {med[name] * 1000:7.1f} ms   p90 {pct(values, 90) * 1000:7.1f} ms")
    print(f"lint / baseline:  {med['lint'] / med['baseline']:.2f}x")
    print(f"lint - baseline:  {(med['lint'] - med['baseline']) * 1000:.1f} ms")
    print(f"dry-run / lint:   {med['dry-run'] / med['lint']:.2f}x")


if __name__ == "__main__":
    main()
