"""Cancel latency of the stop policy (run by hand, prints numbers).

``-n 8``, ``--usacloud-error-policy=stop``: 8 long scripts whose second command sleeps 300 s in
the stand-in (a STANDIN_RULES rule on ``region list``) and one script whose ``server read``
fails after ``--fail-after`` (1.0) s. While the inner pytest runs, this process follows the
stand-in's log and polls every 5 ms:

* the failing call's "end" event (its ``end`` time, written by the stand-in just before exit);
* the stop signal file in the plugin's run directory (its mtime = when the worker wrote it);
* each long command's pid (from its "start" event): dead once ``os.kill(pid, 0)`` fails or
  /proc says zombie (its worker has not reaped it yet, but it no longer runs).

Cancel latency = the last long command's death - the failing call's end, over the long commands
that were running when it failed. Split into failure -> stop signal written and stop signal ->
last death. 20 runs; p50 and max. Targets: p50 < 0.5 s, max < 1 s.

``--remote N`` puts N of the workers on a simulated other host (tests/hosts.py: a mount
namespace with a private /tmp and cache, ``--tx popen//python=WRAPPER``), so the stop crosses
xdist's channel; the latency is then also split by where the cancelled command ran.

    python bench/cancel_latency.py [--runs 20] [--fail-after 1.0] [--remote 4 [--fail-on remote]]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _e2e import (
    bench_env,
    finish,
    load_now,
    machine_info,
    median,
    pct,
    pids_alive,
    pytest_argv,
    standin_binary,
    start_pytest,
    tail,
)
from hosts import host_python, unshare_missing
from standin_tools import STANDIN_BIN, STANDIN_CMD, framed, write_rules

POLL = 0.005
LONG = 300


class LogFollower:
    """Reads the JSONL log incrementally (a line not yet complete is left for the next read)."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.buf = path, 0, b""

    def new_events(self) -> list[dict]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except ValueError:
                pass
        return events


def elsewhere(pid: int) -> bool:
    """Whether process ``pid`` lives in another mount namespace than this one (a simulated host)."""
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
    except OSError:
        return False


def one_run(tmp: Path, k: int, args) -> dict:
    run_dir = tmp / f"run{k:02d}"
    run_dir.mkdir()
    scripts = run_dir / "scripts"
    scripts.mkdir()
    (scripts / "a_fail.usacloud").write_text("usacloud zone list\nusacloud server read nope\n")
    for i in range(args.long):
        (scripts / f"long{i}.usacloud").write_text("usacloud zone list\nusacloud region list\nusacloud zone list\n")
    rules = write_rules(
        run_dir / "rules.json",
        [
            {
                "match": "server read",
                "exit": 1,
                "stderr": framed('target resource not found: query=["nope"]'),
                "sleep": args.fail_after,
            },
            {"match": "region list", "sleep": LONG},
        ],
    )
    env = bench_env(run_dir, STANDIN_STATE=None, STANDIN_RULES=rules)
    hosts = []
    if args.remote:
        wrapper = host_python(run_dir / "host", run_dir, [run_dir / "cache", run_dir / "tmp"], run_dir)
        local = args.workers - args.remote
        here = ["--tx", f"{local}*popen"] if local else []
        there = ["--tx", f"{args.remote}*popen//python={wrapper}"]
        # xdist hands the first script (the failing one) to the first worker it set up, as a rule
        hosts = ["--dist=load", *(there + here if args.fail_on == "remote" else here + there)]
    binary = standin_binary(run_dir, args.slow_standin)
    if args.remote and binary != str(STANDIN_BIN):  # its bytecode lives in /tmp, which the other host does not see
        pyc = Path(STANDIN_CMD[2])
        shutil.copy(pyc, run_dir / pyc.name)
        Path(binary).write_text(Path(binary).read_text().replace(str(pyc), str(run_dir / pyc.name)))
    argv = pytest_argv(
        scripts,
        binary,
        "--usacloud-rate=unlimited",
        "--usacloud-error-policy=stop",
        "--usacloud-progress=off",
        "-rs",
        *hosts,
        workers=0 if args.remote else args.workers,
    )
    follower = LogFollower(run_dir / "usacloud.jsonl")
    tmpdir = run_dir / "tmp"  # the plugin's run directory (pytest-usacloud-*) is made here
    load_before = load_now()
    t0 = time.time()
    proc = start_pytest(argv, env, run_dir, run_dir / "pytest.out")
    long_start: dict[int, float] = {}  # pid -> its start time
    remote: dict[int, bool] = {}  # pid -> it runs on the simulated other host
    fail_remote = None
    death: dict[int, float] = {}
    fail_end = stop_at = stop_seen = None
    stop_path = None
    exited_at = None
    max_gap, last_poll = 0.0, time.monotonic()
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        now = time.time()
        for e in follower.new_events():
            argv_ = e.get("argv") or []
            if e.get("event") == "start" and argv_[:2] == ["region", "list"]:
                long_start[e["pid"]] = e["start"]
                remote[e["pid"]] = elsewhere(e["ppid"])
            elif e.get("event") == "start" and argv_[:2] == ["server", "read"]:
                fail_remote = elsewhere(e["ppid"])
            elif e.get("event") == "end" and argv_[:2] == ["server", "read"]:
                fail_end = e["end"]
        pending = [p for p in long_start if p not in death]
        if pending:
            alive = set(pids_alive(pending))
            for pid in pending:
                if pid not in alive:
                    death[pid] = now
        if stop_path is None:
            found = [d for d in tmpdir.glob("pytest-usacloud-*")] if tmpdir.is_dir() else []
            if found:
                stop_path = found[0] / "stop"
        if stop_path is not None and stop_at is None:
            try:
                stop_at = os.stat(stop_path).st_mtime
                stop_seen = now
            except FileNotFoundError:
                pass
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        if exited_at is not None and all(p in death for p in long_start):
            break
        tick = time.monotonic()
        max_gap = max(max_gap, tick - last_poll)
        last_poll = tick
        time.sleep(POLL)
    if proc.poll() is None:
        proc.kill()  # only our own inner pytest, and only if it overran the timeout
    code = finish(proc, 60)
    victims = [p for p, s in long_start.items() if fail_end is not None and s <= fail_end]
    late = [p for p, s in long_start.items() if fail_end is not None and s > fail_end]
    r = {
        "k": k,
        "code": code,
        "victims": len(victims),
        "late_starts": len(late),
        "max_gap": max_gap,
        "load": f"{load_before} -> {load_now()}",
        "fail_end": fail_end,
    }
    if fail_end is None or not victims:
        print(
            f"run {k:2d}: no measurement (failing call end {fail_end}, {len(victims)} long commands running);"
            f" exit {code}\n{tail(run_dir / 'pytest.out', 8)}"
        )
        return r
    last_death = max(death.get(p, float("inf")) for p in victims)
    for key, side in (("remote_latency", True), ("local_latency", False)):
        there = [death.get(p, float("inf")) for p in victims if remote.get(p) == side]
        r[key] = max(there) - fail_end if there else float("nan")
    r["fail_remote"] = fail_remote
    r.update(
        latency=last_death - fail_end,
        first_death=min(death[p] for p in victims) - fail_end,
        trigger=(stop_at - fail_end) if stop_at is not None else float("nan"),
        kill=(last_death - stop_at) if stop_at is not None else float("nan"),
        stop_seen=(stop_seen - stop_at) if stop_at is not None else float("nan"),
        exit_after=(exited_at - fail_end) if exited_at is not None else float("nan"),
        startup=min(long_start.values()) - t0,
    )
    print(
        f"run {k:2d}: cancel latency {r['latency'] * 1000:7.1f} ms (first death {r['first_death'] * 1000:6.1f} ms) = "
        f"failure -> stop signal {r['trigger'] * 1000:6.1f} ms + stop signal -> last death {r['kill'] * 1000:6.1f} ms; "
        f"{len(victims)} running, {len(late)} started after the failure; pytest exited {r['exit_after']:.2f}s after "
        f"the failure (exit {code}); poll gap max {max_gap * 1000:.0f} ms; load {r['load']}"
        + (
            f"; failure on the {'other' if fail_remote else 'local'} host, last death there "
            f"{r['remote_latency'] * 1000:.1f} ms (other host) / {r['local_latency'] * 1000:.1f} ms (local)"
            if args.remote
            else ""
        )
    )
    sys.stdout.flush()
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--long", type=int, default=8, help="long scripts")
    parser.add_argument("--fail-after", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--slow-standin", action="store_true", help="run tests/standin/usacloud via its shebang")
    parser.add_argument("--remote", type=int, default=0, help="workers on a simulated other host (unshare -m)")
    parser.add_argument(
        "--fail-on", choices=("local", "remote"), default="local", help="with --remote: where the failing script runs"
    )
    args = parser.parse_args()
    if args.remote and unshare_missing():
        parser.error(f"--remote: {unshare_missing()}")
    print(machine_info())
    print(
        f"-n {args.workers} ({args.remote} on a simulated other host), {args.long} long scripts (300 s command), "
        f"1 failing after {args.fail_after:g}s, "
        f"--usacloud-error-policy=stop, {'slow (shebang)' if args.slow_standin else 'fast (python -S .pyc)'} stand-in"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-cancel-"))
    results = [one_run(tmp, k, args) for k in range(args.runs)]
    ok = [r for r in results if "latency" in r]
    if not ok:
        print("no run measured")
        return
    lat = [r["latency"] for r in ok]
    print()
    print(
        f"{len(ok)} runs measured of {len(results)}; long commands running at the failure: "
        f"min {min(r['victims'] for r in ok)} of {args.long}; started after the failure: "
        f"{sum(r['late_starts'] for r in results)} in all runs"
    )
    for key, label in (
        ("latency", "cancel latency (failure -> last death)"),
        ("trigger", "failure -> stop signal"),
        ("kill", "stop signal -> last death"),
        ("first_death", "failure -> first death"),
        ("remote_latency", "failure -> last death on the other host"),
        ("local_latency", "failure -> last death on the local host"),
        ("exit_after", "failure -> pytest exit"),
    ):
        vals = [r[key] for r in ok if r.get(key) == r.get(key)]
        if not vals:
            continue
        print(
            f"  {label:<40} p50 {median(vals) * 1000:8.1f} ms   p90 {pct(vals, 90) * 1000:8.1f} ms   "
            f"max {max(vals) * 1000:8.1f} ms"
        )
    print(
        f"targets: p50 < 500 ms, max < 1000 ms -> {'met' if median(lat) < 0.5 and max(lat) < 1.0 else 'MISSED'}"
        f"   (bench poll gap max {max(r['max_gap'] for r in results) * 1000:.0f} ms; temp dir {tmp})"
    )


if __name__ == "__main__":
    main()
