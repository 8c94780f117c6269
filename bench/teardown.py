"""The teardown of N resources at rate R against its bound, calls / R (run by hand).

An inner pytest (the plugin against the stand-in, as the test suite runs it) runs scripts that
create N resources of a few kinds (switches, disks, servers with their own disk), tagged by the
plugin. After the last script the run's teardown lists each kind once by the run's tag and deletes
each resource by its ID, stage by stage (servers, then disks, then switches), every call through
the token bucket at R per second, burst 1. The bucket is the bound: ``calls / R`` seconds, calls
being the teardown's listings and deletes (a server deleted ``--with-disks`` takes its disk along,
so its disk costs no call of its own).

From the JSON report's ``cleanup`` section it reads every teardown call's attempts and prints:

* the span from the first teardown token to the last call's end, against the bound: the ratio;
* the achieved rate of the teardown's grants (grants - 1 over their spread), against R;
* the teardown's own wall time as the plugin measured it (``cleanup.seconds``).

``--latency`` adds seconds to every stand-in call (``STANDIN_LATENCY``): with calls slower than
1/R the stages' calls must overlap to hold the rate (the teardown runs up to 5 side by side).

    python bench/teardown.py [--resources 100] [--rate 10] [--latency 0.0] [--runs 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _e2e as e2e

#: (kind, share of the resources, the create); a server makes its own disk (one more resource)
KINDS = (
    ("switch", 0.6, "usacloud switch create -y --name sw{n} -q"),
    ("disk", 0.2, "usacloud disk create -y --name d{n} --size 20 -q"),
    ("server", 0.1, "usacloud server create -y --name s{n} --disk-size 20 -q"),
)
PER_SCRIPT = 10


def scripts_for(directory: Path, resources: int) -> int:
    """Scripts that make ``resources`` resources (a server and its disk count two); returns the count."""
    plan: list[str] = []
    for kind, share, create in KINDS:
        plan += [create] * round(resources * share / (2 if kind == "server" else 1))
    made = sum(2 if c.startswith("usacloud server") else 1 for c in plan)
    plan += [KINDS[0][2]] * max(0, resources - made)  # the rest: switches
    for start in range(0, len(plan), PER_SCRIPT):
        lines = [create.format(n=n) for n, create in enumerate(plan[start : start + PER_SCRIPT], start)]
        (directory / f"s{start // PER_SCRIPT:03d}.usacloud").write_text("\n".join(lines) + "\n")
    return sum(2 if c.startswith("usacloud server") else 1 for c in plan)


def one_run(tmp: Path, args, run: int) -> dict:
    base = tmp / f"run{run}"
    scripts = base / "scripts"
    scripts.mkdir(parents=True)
    made = scripts_for(scripts, args.resources)
    env = e2e.bench_env(base, STANDIN_LATENCY=args.latency)
    report = base / "report.json"
    argv = e2e.pytest_argv(
        scripts,
        e2e.standin_binary(base, args.slow_standin),
        f"--usacloud-rate={args.rate}",
        "--usacloud-burst=1",
        f"--usacloud-report={report}",
        workers=args.workers,
    )
    out = base / "pytest.out"
    code = e2e.finish(e2e.start_pytest(argv, env, base, out), timeout=3600)
    if code != 0:
        raise SystemExit(f"run {run}: inner pytest exited {code}\n{e2e.tail(out, 30)}")
    cleanup = e2e.load_report(report)["cleanup"]
    if cleanup["left"] or cleanup["deleted"] != made:
        raise SystemExit(f"run {run}: {cleanup['deleted']} deleted, {cleanup['left']} left of {made}\n{e2e.tail(out)}")
    attempts = [a for c in cleanup["commands"] for a in c["attempts"]]
    grants = sorted(a["token_at"] for a in attempts if a["token_at"] is not None)
    calls = len(attempts)
    bound = calls / args.rate
    span = max(a["end"] for a in attempts) - grants[0]
    spread = grants[-1] - grants[0]
    return {
        "made": made,
        "calls": calls,
        "lists": sum(1 for c in cleanup["commands"] if c["words"][2] == "list"),
        "bound": bound,
        "span": span,
        "ratio": span / bound,
        "achieved": (len(grants) - 1) / spread if spread > 0 else float("inf"),
        "seconds": cleanup["seconds"],
        "load": e2e.load_now(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every stand-in call")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slow-standin", action="store_true")
    args = parser.parse_args()
    print(e2e.machine_info())
    print(
        f"teardown of {args.resources} resources (60% switches, 20% disks, 10% servers with their own disk) "
        f"at R={args.rate:g}/s, burst 1, stand-in latency {args.latency:g}s, -n {args.workers}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-teardown-") as tmp:
        for run in range(1, args.runs + 1):
            t0 = time.monotonic()
            r = one_run(Path(tmp), args, run)
            print(
                f"run {run}: {r['made']} deleted with {r['calls']} calls ({r['lists']} listings) | "
                f"bound calls/R {r['bound']:.2f}s | span {r['span']:.2f}s = {r['ratio']:.3f} x bound | "
                f"achieved {r['achieved']:.2f}/s = {r['achieved'] / args.rate:.3f} x R | "
                f"teardown {r['seconds']:.2f}s | whole run {time.monotonic() - t0:.1f}s | load {r['load']}"
            )


if __name__ == "__main__":
    main()
