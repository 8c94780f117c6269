"""Shell mode's cost per usacloud call, against a bare call of the same stand-in (run by hand).

One shell-mode script, run by an inner pytest with ``--usacloud-fake`` and an unlimited rate,
times three loops of ``--calls`` (50) ``usacloud zone list -q`` calls with bash's own
``$EPOCHREALTIME``, interleaved over ``--rounds`` (3) rounds so that load changes hit all three:

* bare: the stand-in called by its absolute path (no sandbox: the baseline);
* function: ``usacloud`` (the prologue's bash function: builtins only, the worker runs usacloud);
* PATH: ``command usacloud`` (the launcher on PATH, as for ``env``/``xargs usacloud``).

Printed per path: seconds per call, the overhead per call over bare (ms) and the ratio to bare.
The target is an overhead of at most 20 ms per call. The stand-in is the fast exec
wrapper of ``bench/_e2e.py`` (``--slow-standin`` for the stand-in script itself). ``--trivial``
uses a two-line ``sh`` usacloud instead (prints an ID): the sandbox's own cost stands out from the
stand-in's start-up noise on a loaded machine.

    python bench/shell_overhead.py [--calls 50] [--rounds 3] [--trivial]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _e2e import bench_env, finish, load_now, machine_info, pytest_argv, standin_binary, start_pytest, tail

SCRIPT = """\
# pytest.mark.usacloud_shell
set -eu
times={times}
for round in $(seq {rounds}); do
  t0=$EPOCHREALTIME
  for i in $(seq {calls}); do {bare} zone list -q > /dev/null; done
  t1=$EPOCHREALTIME
  for i in $(seq {calls}); do usacloud zone list -q > /dev/null; done
  t2=$EPOCHREALTIME
  for i in $(seq {calls}); do command usacloud zone list -q > /dev/null; done
  t3=$EPOCHREALTIME
  echo "$t0 $t1 $t2 $t3" >> "$times"
done
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slow-standin", action="store_true")
    parser.add_argument("--trivial", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine_info()}")
    with tempfile.TemporaryDirectory(prefix="shell-overhead-") as tmp_name:
        tmp = Path(tmp_name)
        scripts = tmp / "scripts"
        scripts.mkdir()
        binary = standin_binary(tmp, args.slow_standin)
        if args.trivial:
            binary = str(tmp / "usacloud-trivial")
            Path(binary).write_text("#!/bin/sh\necho 113000000001\n")
            Path(binary).chmod(0o755)
        times = tmp / "times.txt"
        (scripts / "calls.usacloud").write_text(
            SCRIPT.format(times=times, rounds=args.rounds, calls=args.calls, bare=binary)
        )
        env = bench_env(tmp)
        argv = pytest_argv(
            scripts, binary, "--usacloud-fake", "--usacloud-rate=unlimited", f"--usacloud-report={tmp / 'r.json'}"
        )
        if args.trivial:  # it answers every call with an ID, so it has no version for the preflight
            argv.append("--no-usacloud-preflight")
        out = tmp / "out.txt"
        started = time.monotonic()
        code = finish(start_pytest(argv, env, tmp, out), timeout=1800)
        wall = time.monotonic() - started
        if code != 0 or not times.exists():
            print(f"the inner pytest failed (exit {code}):\n{tail(out)}")
            return 1
        report = json.loads((tmp / "r.json").read_text())
        calls = [c for s in report["scripts"] for c in s["commands"]]
        sums = [0.0, 0.0, 0.0]
        for line in times.read_text().splitlines():
            t0, t1, t2, t3 = (float(x) for x in line.split())
            for i, (a, b) in enumerate(((t0, t1), (t1, t2), (t2, t3))):
                sums[i] += b - a
    n = args.calls * args.rounds
    bare = sums[0] / n
    print(f"load average after: {load_now()} | inner run {wall:.1f}s | {len(calls)} calls recorded")
    print(f"{'path':10s} {'s/call':>8s} {'overhead ms/call':>17s} {'ratio to bare':>14s}")
    for name, total in zip(("bare", "function", "PATH"), sums, strict=True):
        per = total / n
        print(f"{name:10s} {per:8.4f} {1000 * (per - bare):17.1f} {per / bare:14.2f}")
    if len(calls) != 2 * n or any(c["status"] != "ok" for c in calls):
        print("WARNING: not every sandboxed call was recorded as ok")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
