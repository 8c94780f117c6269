"""Rate precision end to end: pytest + xdist + plugin + stand-in (run by hand, prints numbers).

One run: ``--commands`` (300) ``usacloud zone list`` spread over ``--scripts`` (30) scripts,
``-n 8``, R = 20/s, burst 1, instant stand-in (STANDIN_LATENCY unset), the bucket in a private
state file (``--usacloud-rate-backend=file:TMP``) or in Redis. From the JSON report:

* the worst window over all windows [t_i, t_j] of the attempts' ``token_at`` (when the bucket
  admitted them) against burst + R*T, with no jitter allowance; same for ``start`` (the plugin's
  clock just before Popen). Target: zero violations on token_at.
* achieved rate / R = (commands - 1) / (last grant - first grant) / R. Target: >= 0.98.
* the delay from grant to launch (start - token_at), which is what separates the two views.

Then two runs x 4 workers started together, sharing one bucket (same file, or same Redis URL
and API key), each with half the commands: the same figures over both runs' attempts.

    python bench/run_precision.py                   # file: one run, then the pair
    python bench/run_precision.py --backend redis   # Redis: one run, then the pair on file and on Redis
    python bench/run_precision.py --backend both    # one run on each, then the pair on each

Redis: USACLOUD_TEST_REDIS_URL if set, else a private redis-server on a free loopback port
(``--save '' --appendonly no``), killed at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _e2e import (
    PrivateRedis,
    attempts,
    bench_env,
    describe_window,
    finish,
    load_now,
    load_report,
    lost_time,
    machine_info,
    median,
    pct,
    pytest_argv,
    read_events,
    standin_binary,
    start_pytest,
    tail,
    window_check,
)


def make_scripts(directory: Path, scripts: int, commands: int, prefix: str) -> None:
    directory.mkdir(parents=True)
    per = [commands // scripts + (i < commands % scripts) for i in range(scripts)]
    for i, n in enumerate(per):
        (directory / f"{prefix}{i:03d}.usacloud").write_text("usacloud zone list\n" * n)


def launch(tmp: Path, name: str, spec: str, token: str, args, commands: int, workers: int, scripts: int):
    run_dir = tmp / name
    run_dir.mkdir()
    scripts_dir = run_dir / "scripts"
    make_scripts(scripts_dir, scripts, commands, name)
    report = run_dir / "report.json"
    env = bench_env(run_dir, STANDIN_STATE=None, SAKURACLOUD_ACCESS_TOKEN=token)
    argv = pytest_argv(
        scripts_dir,
        standin_binary(run_dir, args.slow_standin),
        f"--usacloud-rate={args.rate:g}",
        f"--usacloud-burst={args.burst}",
        f"--usacloud-rate-backend={spec}",
        f"--usacloud-report={report}",
        "--usacloud-progress=off",
        workers=workers,
    )
    proc = start_pytest(argv, env, run_dir, run_dir / "pytest.out")
    return proc, report, run_dir


def check_run(procs) -> list[dict]:
    docs = []
    for proc, report, run_dir in procs:
        code = finish(proc, 3600)
        if code != 0:
            print(f"  !! inner pytest exited {code}:\n{tail(run_dir / 'pytest.out')}")
        docs.append(load_report(report))
    return docs


def analyse(label: str, docs: list[dict], run_dirs: list[Path], rate: float, burst: int, wall: float) -> dict:
    atts = [a for doc in docs for a in attempts(doc)]
    grants = [a["token_at"] for a in atts]
    starts = [a["start"] for a in atts]
    standin = [
        e["start"]
        for d in run_dirs
        for e in read_events(d / "usacloud.jsonl")
        if e.get("event") == "start" and e.get("argv") != ["version"]
    ]
    launch_delay = [a["start"] - a["token_at"] for a in atts]
    g, s = window_check(grants, rate, burst), window_check(starts, rate, burst)
    i = window_check(standin, rate, burst)
    ideal = (len(grants) - burst) / rate
    print(
        f"{label}: {len(atts)} attempts, {sum(len(d['scripts']) for d in docs)} scripts, wall {wall:.1f}s "
        f"(ideal span of grants {(len(grants) - 1) / rate:.2f}s), load {load_now()}"
    )
    print(describe_window("token_at (grant)      ", g))
    print(describe_window("start (before Popen)  ", s))
    print(describe_window("stand-in start (info) ", i))
    print(
        f"  grant -> launch: p50 {median(launch_delay) * 1000:.2f} ms  p99 {pct(launch_delay, 99) * 1000:.2f} ms  "
        f"max {max(launch_delay) * 1000:.2f} ms;  token wait total {sum(a['token_wait'] for a in atts):.1f}s"
    )
    lost = lost_time(docs, rate)
    print(
        f"  span of grants {lost['span']:.2f}s vs ideal {lost['ideal']:.2f}s: behind by "
        f"{lost['span'] - lost['ideal']:.2f}s = {lost['starved']:.2f}s no command ready (demand) + "
        f"{lost['late']:.2f}s limiter lateness ({lost['late_per_grant_ms']:.2f} ms/grant, p99 gap "
        f"{lost['late_p99_ms']:.1f} ms)"
    )
    first = min(grants) - min(d["run"]["start"] for d in docs)
    print(
        f"  session start -> first grant {first:.2f}s "
        f"(pytest + {max(d['run']['workers'] for d in docs)} xdist workers starting)"
    )
    assert ideal > 0
    return {
        "label": label,
        "grant": g,
        "start": s,
        "standin": i,
        "wall": wall,
        "launch_p50": median(launch_delay),
        "launch_max": max(launch_delay),
        "lost": lost,
    }


def single(tmp: Path, kind: str, spec: str, args) -> dict:
    token = f"bench-{uuid.uuid4()}"
    t0 = time.monotonic()
    run = launch(tmp, f"single-{kind}", spec, token, args, args.commands, args.workers, args.scripts)
    docs = check_run([run])
    return analyse(f"{kind}: 1 run x -n {args.workers}", docs, [run[2]], args.rate, args.burst, time.monotonic() - t0)


def pair(tmp: Path, kind: str, spec: str, args) -> dict:
    token = f"bench-{uuid.uuid4()}"  # one API key: with Redis the bucket's key comes from it
    t0 = time.monotonic()
    half = args.commands // 2
    runs = [
        launch(tmp, f"pair-{kind}-{n}", spec, token, args, half, args.pair_workers, args.scripts // 2)
        for n in ("a", "b")
    ]
    docs = check_run(runs)
    return analyse(
        f"{kind}: 2 runs x -n {args.pair_workers} sharing one bucket",
        docs,
        [r[2] for r in runs],
        args.rate,
        args.burst,
        time.monotonic() - t0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("file", "redis", "both"), default="file")
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--scripts", type=int, default=30)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--pair-workers", type=int, default=4)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=1)
    parser.add_argument("--no-pair", action="store_true", help="skip the two-runs-one-bucket part")
    parser.add_argument("--slow-standin", action="store_true", help="run tests/standin/usacloud via its shebang")
    args = parser.parse_args()
    print(machine_info())
    print(
        f"R={args.rate:g}/s burst={args.burst}, {args.commands} commands in {args.scripts} scripts, "
        f"{'slow (shebang)' if args.slow_standin else 'fast (python -S .pyc)'} stand-in, no latency"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-run-precision-"))
    singles = {"file": ["file"], "redis": ["redis"], "both": ["file", "redis"]}[args.backend]
    pairs = [] if args.no_pair else (["file"] if args.backend == "file" else ["file", "redis"])
    redis = None
    results = []
    try:
        specs = {"file": lambda part: f"file:{tmp / ('state-' + part + '.json')}"}
        if "redis" in singles + pairs:
            redis = PrivateRedis(tmp)
            print(f"redis: {redis.origin}")
            specs["redis"] = lambda part: redis.url
        for kind in singles:
            results.append(single(tmp, kind, specs[kind]("single"), args))
        for kind in pairs:
            results.append(pair(tmp, kind, specs[kind]("pair"), args))
    finally:
        if redis is not None:
            redis.stop()
    print()
    print(
        f"{'run':<48} {'grant viol.':>11} {'grant excess':>12} {'start viol.':>11} {'start excess':>12} "
        f"{'rate/R':>7} {'launch p50':>10} {'launch max':>10} {'starved':>8} {'late':>6}"
    )
    for r in results:
        print(
            f"{r['label']:<48} {r['grant']['violation']!s:>11} {r['grant']['excess']:>+12.3f} "
            f"{r['start']['violation']!s:>11} {r['start']['excess']:>+12.3f} {r['grant']['ratio']:>7.4f} "
            f"{r['launch_p50'] * 1000:>8.2f}ms {r['launch_max'] * 1000:>8.2f}ms "
            f"{r['lost']['starved']:>7.2f}s {r['lost']['late']:>5.2f}s"
        )
    print(f"targets: zero violations on token_at, rate/R >= 0.98   (temp dir {tmp})")


if __name__ == "__main__":
    main()
