"""Makespan of a realistic mix under the shared rate limit (run by hand, prints numbers).

``--scripts`` (20) scripts of 3-12 usacloud commands each (lists, reads, creates; a few shell
lines that are not run), every command taking 50-500 ms in the stand-in (STANDIN_LATENCY=0.05
plus STANDIN_LATENCY_JITTER=0.45, uniform), R = 5/s, burst 1, ``-n 5``. From the report:

* the lower bound max(commands / R, sum of command times / workers), where a command's time is
  end - start of each attempt (the stand-in's latency plus its start-up, as the plugin saw it);
* also the critical path: the longest script's own sum of command times;
* the measured makespan two ways: the first command's start to the last command's end (the part
  the plugin schedules), and the whole process's wall time (pytest + xdist start-up included);
* makespan / bound for both.

    python bench/makespan.py                        # R=5/s, -n 5, 20 scripts, 3 runs
    python bench/makespan.py --rate 50 --runs 2     # latency-bound instead of rate-bound
    python bench/makespan.py --rate 50 --runs 2 --dist worksteal   # xdist's work stealing for the tail
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _e2e import (
    attempts,
    bench_env,
    finish,
    load_now,
    load_report,
    machine_info,
    median,
    pytest_argv,
    standin_binary,
    start_pytest,
    tail,
)

COMMANDS = [
    "usacloud zone list",
    "usacloud region list -o json | jq 'length'",
    "usacloud server list -o json",
    "usacloud switch list --tags ci -q",
    "usacloud disk list --zone is1a",
    "usacloud archive list -o json | jq '.[0].ID'",
    "usacloud server-plan list",
    "usacloud internet-plan list",
    "usacloud switch create -y --name ci-sw-{n} --tags ci -o json",
    "usacloud packet-filter list",
]
SHELL_LINES = ["set -e", 'echo "step {n}"', "NAME=ci-{n}"]


def make_scripts(directory: Path, scripts: int, lo: int, hi: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    directory.mkdir(parents=True)
    sizes = []
    for i in range(scripts):
        n = rng.randint(lo, hi)
        sizes.append(n)
        lines = ["#!/bin/bash", f"# bench script {i}: {n} usacloud commands"]
        for k in range(n):
            if rng.random() < 0.3:
                lines.append(rng.choice(SHELL_LINES).format(n=f"{i}-{k}"))
            lines.append(rng.choice(COMMANDS).format(n=f"{i}-{k}"))
        (directory / f"job{i:02d}.usacloud").write_text("\n".join(lines) + "\n")
    return sizes


def one_run(tmp: Path, k: int, args) -> dict:
    run_dir = tmp / f"run{k}"
    run_dir.mkdir()
    scripts = run_dir / "scripts"
    sizes = make_scripts(scripts, args.scripts, args.min_commands, args.max_commands, args.seed + k)
    report = run_dir / "report.json"
    env = bench_env(
        run_dir,
        STANDIN_STATE=None,
        STANDIN_LATENCY=args.latency_min,
        STANDIN_LATENCY_JITTER=args.latency_max - args.latency_min,
        SAKURACLOUD_ACCESS_TOKEN=f"bench-{uuid.uuid4()}",
    )
    argv = pytest_argv(
        scripts,
        standin_binary(run_dir, args.slow_standin),
        f"--usacloud-rate={args.rate:g}",
        f"--usacloud-burst={args.burst}",
        f"--usacloud-rate-backend=file:{run_dir / 'bucket.json'}",
        f"--usacloud-report={report}",
        "--usacloud-progress=off",
        *(["--dist", args.dist] if args.dist else []),
        workers=args.workers,
    )
    load_before = load_now()
    t0 = time.time()
    proc = start_pytest(argv, env, run_dir, run_dir / "pytest.out")
    code = finish(proc, 1800)
    wall = time.time() - t0
    if code != 0:
        print(f"  !! inner pytest exited {code}:\n{tail(run_dir / 'pytest.out')}")
    doc = load_report(report)
    atts = attempts(doc)
    n = len(atts)
    work = sum(a["end"] - a["start"] for a in atts)
    by_script = [sum(a["end"] - a["start"] for c in s["commands"] for a in c["attempts"]) for s in doc["scripts"]]
    critical = max(by_script)
    first, last = min(a["start"] for a in atts), max(a["end"] for a in atts)
    span = last - first
    rate_bound = n / args.rate
    work_bound = work / args.workers
    bound = max(rate_bound, work_bound)
    # per worker: when it was busy running scripts, and when it finished its last one
    busy, finished = defaultdict(float), defaultdict(float)
    for s in doc["scripts"]:
        busy[s["worker"]] += s["end"] - s["start"]
        finished[s["worker"]] = max(finished[s["worker"]], s["end"])
    token_wait = sum(a["token_wait"] for a in atts)
    r = {
        "k": k,
        "code": code,
        "commands": n,
        "expected": sum(sizes),
        "work": work,
        "critical": critical,
        "rate_bound": rate_bound,
        "work_bound": work_bound,
        "bound": bound,
        "span": span,
        "wall": wall,
        "startup": first - t0,
        "winddown": t0 + wall - last,
        "token_wait": token_wait,
        "cmd_median": median([a["end"] - a["start"] for a in atts]),
        "idle_tail": {w: last - f for w, f in finished.items()},
        "busy": dict(busy),
        "load": f"{load_before} -> {load_now()}",
    }
    print(f"run {k}: exit {code}, {n} commands in {len(doc['scripts'])} scripts (load {r['load']})")
    print(
        f"  bound max(commands/R = {rate_bound:.2f}s, work/workers = {work:.1f}/{args.workers} = {work_bound:.2f}s) = "
        f"{bound:.2f}s; critical path (longest script) {critical:.2f}s; median command {r['cmd_median'] * 1000:.0f} ms"
    )
    print(
        f"  makespan first start -> last end {span:.2f}s = {span / bound:.3f} x bound; "
        f"process wall {wall:.2f}s = {wall / bound:.3f} x bound "
        f"(start-up {r['startup']:.2f}s, wind-down {r['winddown']:.2f}s)"
    )
    tails = ", ".join(f"{w} {v:.1f}s" for w, v in sorted(r["idle_tail"].items()))
    print(f"  token wait {token_wait:.1f}s over all commands; workers idle at the end: {tails}")
    sys.stdout.flush()
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=20)
    parser.add_argument("--min-commands", type=int, default=3)
    parser.add_argument("--max-commands", type=int, default=12)
    parser.add_argument("--latency-min", type=float, default=0.05)
    parser.add_argument("--latency-max", type=float, default=0.5)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--burst", type=int, default=1)
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dist", default="", help="xdist distribution mode to pass (default: xdist's, load)")
    parser.add_argument("--slow-standin", action="store_true", help="run tests/standin/usacloud via its shebang")
    args = parser.parse_args()
    print(machine_info())
    print(
        f"{args.scripts} scripts x {args.min_commands}-{args.max_commands} commands, latency "
        f"{args.latency_min * 1000:.0f}-{args.latency_max * 1000:.0f} ms, R={args.rate:g}/s burst {args.burst}, "
        f"-n {args.workers}{' --dist ' + args.dist if args.dist else ''}, "
        f"{'slow (shebang)' if args.slow_standin else 'fast (python -S .pyc)'} stand-in"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-makespan-"))
    results = [one_run(tmp, k, args) for k in range(args.runs)]
    print()
    print(
        f"{'run':>3} {'cmds':>5} {'bound s':>8} {'which':>6} "
        f"{'span s':>7} {'span/bound':>10} {'wall s':>7} {'wall/bound':>10}"
    )
    for r in results:
        which = "rate" if r["rate_bound"] >= r["work_bound"] else "work"
        print(
            f"{r['k']:>3} {r['commands']:>5} {r['bound']:>8.2f} {which:>6} "
            f"{r['span']:>7.2f} {r['span'] / r['bound']:>10.3f} "
            f"{r['wall']:>7.2f} {r['wall'] / r['bound']:>10.3f}"
        )
    print(f"(temp dir {tmp})")


if __name__ == "__main__":
    main()
