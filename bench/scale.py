"""Scale: 1,000 and 10,000 one-command scripts through pytest + xdist + plugin (run by hand, prints numbers).

Each script is ``usacloud zone list``; generated into a temp dir. ``-n 4``, instant stand-in,
``--usacloud-rate=unlimited``, ``--usacloud-progress=off``. For each size:

* wall time and wall time per script, split into start-up + collection (process start -> first
  command), running (first command -> last command's end) and wind-down (-> process exit);
* peak RSS of the controller and of the xdist workers: /proc/<pid>/status VmHWM (and VmRSS) of
  the pytest process and its worker children, polled every 0.2 s while it runs, max taken;
* whether a script costs more late in the run than early: time per script in the first and the
  last third of the run, from the stand-in's own log of command starts (one command = one
  script here), and, for the report run, from the report's per-script start/end.

Then the largest size once more with ``--usacloud-report`` to see what the report costs (wall,
controller memory, the size of the file, and the time from the last command to the exit).

Targets: controller and worker memory growth under 20 MB between the two sizes; no per-script
cost that grows with the run (last third / first third ~ 1).

    python bench/scale.py                          # 1000 and 10000, then 10000 with the report
    python bench/scale.py --sizes 1000,3000 --report-size 3000
    python bench/scale.py --report-size 0          # no report run

The stand-in's Python start-up dominates: ~45 ms of CPU a command with the fast wrapper
(python -S on the precompiled stand-in), on 2 cores; 10,000 commands take several minutes.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _e2e import (
    bench_env,
    children_of,
    cmdline,
    finish,
    load_now,
    machine_info,
    median,
    mem_kb,
    pytest_argv,
    read_events,
    standin_binary,
    start_pytest,
    tail,
)

PROGRESS_LINE = re.compile(rb"^[.sFEx]+ *(\[ *\d+%\])?$")  # "....... [ 42%]"
PROGRESS_PARTIAL = re.compile(rb"^[.sFEx]+$")


class MemoryPoller(threading.Thread):
    """Polls the controller and its xdist worker children every ``interval`` s; keeps the maxima."""

    def __init__(self, pid: int, interval: float, out_path: Path | None = None) -> None:
        super().__init__(daemon=True)
        # pytest -q prints one "." per passed script as the controller handles its report (the
        # inner pytest runs with PYTHONUNBUFFERED=1, so each reaches the file at once):
        # (time, dots so far) shows how far the controller lags behind the workers.
        self.out_path, self.out_offset, self.out_buf, self.done_dots, self.dots = out_path, 0, b"", 0, 0
        self.dot_trace: list[tuple[float, int]] = []
        self.pid, self.interval = pid, interval
        self.controller_hwm = self.controller_rss = 0
        self.workers: dict[int, list[int]] = {}  # pid -> [max VmHWM, max VmRSS]
        self.trace: list[tuple[float, int]] = []  # (time, controller VmRSS kB)
        self.polls = 0
        self.max_gap = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        last = time.monotonic()
        while not self._halt.is_set():
            self.poll()
            now = time.monotonic()
            self.max_gap = max(self.max_gap, now - last)
            last = now
            self._halt.wait(self.interval)

    def poll(self) -> None:
        mem = mem_kb(self.pid)
        if mem is None or mem[1] == 0:  # gone, or a zombie (no VmRSS line)
            return
        self.polls += 1
        self.controller_hwm = max(self.controller_hwm, mem[0])
        self.controller_rss = max(self.controller_rss, mem[1])
        self.trace.append((time.time(), mem[1]))
        self._count_dots()
        for child in children_of(self.pid):
            if child not in self.workers:
                if "sys.stdin.readline" not in cmdline(child):  # xdist (execnet) workers only
                    continue
                self.workers[child] = [0, 0]
            m = mem_kb(child)
            if m is not None and m[1]:
                self.workers[child][0] = max(self.workers[child][0], m[0])
                self.workers[child][1] = max(self.workers[child][1], m[1])

    def _count_dots(self) -> None:
        if self.out_path is None:
            return
        try:
            with open(self.out_path, "rb") as fh:
                fh.seek(self.out_offset)
                data = fh.read()
        except OSError:
            return
        self.out_offset += len(data)
        self.out_buf += data
        *lines, self.out_buf = self.out_buf.split(b"\n")
        self.done_dots += sum(line.count(b".") for line in lines if PROGRESS_LINE.match(line))
        partial = self.out_buf.count(b".") if PROGRESS_PARTIAL.match(self.out_buf) else 0
        self.dots = self.done_dots + partial
        self.dot_trace.append((time.time(), self.dots))

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self._count_dots()


def make_scripts(directory: Path, n: int) -> None:
    directory.mkdir(parents=True)
    for i in range(n):
        (directory / f"s{i:05d}.usacloud").write_text("usacloud zone list\n")


def make_plain_tests(directory: Path, n: int, per_file: int = 100) -> None:
    """The same number of items as plain pytest functions (no plugin work, no subprocess)."""
    directory.mkdir(parents=True)
    for f in range(0, n, per_file):
        body = "".join(f"def test_{i:05d}():\n    pass\n\n" for i in range(f, min(n, f + per_file)))
        (directory / f"test_p{f:05d}.py").write_text(body)


def run_plain(tmp: Path, n: int, args) -> dict:
    """Baseline: pytest + xdist alone with n trivial tests; the plugin loaded but given no scripts."""
    run_dir = tmp / f"plain{n}"
    run_dir.mkdir()
    tests = run_dir / "tests"
    make_plain_tests(tests, n)
    env = bench_env(run_dir, STANDIN_STATE=None)
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "xdist.plugin",
        "-p",
        "pytest_usacloud_sandbox.plugin",
        "-p",
        "no:cacheprovider",
        f"--rootdir={tests}",
        "-q",
        "-n",
        str(args.workers),
        str(tests),
    ]
    t0 = time.time()
    proc = start_pytest(argv, env, run_dir, run_dir / "pytest.out")
    poller = MemoryPoller(proc.pid, args.poll)
    poller.start()
    code = finish(proc, args.timeout)
    wall = time.time() - t0
    poller.stop()
    workers = sorted(poller.workers.values(), reverse=True)
    r = {
        "n": n,
        "code": code,
        "wall": wall,
        "ctl_hwm": poller.controller_hwm / 1024,
        "wrk_hwm": workers[0][0] / 1024 if workers else float("nan"),
    }
    print(
        f"baseline, plain pytest + xdist, {n} trivial tests: exit {code}, wall {wall:.1f}s, "
        f"controller VmHWM {r['ctl_hwm']:.1f} MB, worker VmHWM max {r['wrk_hwm']:.1f} MB"
    )
    sys.stdout.flush()
    return r


def thirds(starts: list[float]) -> tuple[float, float, float]:
    """Seconds per script in the first, middle and last third of the starts (start to start)."""
    starts = sorted(starts)
    n = len(starts)
    cuts = [0, n // 3, 2 * n // 3, n - 1]
    return tuple((starts[cuts[k + 1]] - starts[cuts[k]]) / max(1, cuts[k + 1] - cuts[k]) for k in range(3))


def run_size(tmp: Path, n: int, args, report: bool) -> dict:
    name = f"n{n}{'-report' if report else ''}"
    run_dir = tmp / name
    run_dir.mkdir()
    scripts = run_dir / "scripts"
    make_scripts(scripts, n)
    env = bench_env(run_dir, STANDIN_STATE=None, PYTHONUNBUFFERED=1)
    extra = ["--usacloud-rate=unlimited", "--usacloud-progress=off"]
    report_path = run_dir / "report.json"
    if report:
        extra.append(f"--usacloud-report={report_path}")
    argv = pytest_argv(scripts, standin_binary(run_dir, args.slow_standin), *extra, workers=args.workers)
    load_before = load_now()
    t0 = time.time()
    proc = start_pytest(argv, env, run_dir, run_dir / "pytest.out")
    poller = MemoryPoller(proc.pid, args.poll, run_dir / "pytest.out")
    poller.start()
    code = finish(proc, args.timeout)
    t1 = time.time()
    poller.stop()
    if code != 0:
        print(f"  !! inner pytest exited {code}:\n{tail(run_dir / 'pytest.out')}")
    events = read_events(run_dir / "usacloud.jsonl")
    starts = [e["start"] for e in events if e.get("event") == "start" and e.get("argv") != ["version"]]
    ends = [e["end"] for e in events if e.get("event") == "end" and e.get("argv") != ["version"]]
    wall = t1 - t0
    workers = sorted(poller.workers.values(), reverse=True)
    result = {
        "n": n,
        "report": report,
        "code": code,
        "wall": wall,
        "per_script": wall / n,
        "commands": len(starts),
        "startup": min(starts) - t0 if starts else float("nan"),
        "running": max(ends) - min(starts) if starts else float("nan"),
        "winddown": t1 - max(ends) if ends else float("nan"),
        "thirds": thirds(starts) if len(starts) >= 6 else (float("nan"),) * 3,
        "ctl_hwm": poller.controller_hwm / 1024,
        "ctl_rss": poller.controller_rss / 1024,
        "wrk_hwm": workers[0][0] / 1024 if workers else float("nan"),
        "wrk_hwm_min": workers[-1][0] / 1024 if workers else float("nan"),
        "n_workers": len(workers),
        "polls": poller.polls,
        "max_gap": poller.max_gap,
        "trace": poller.trace,
        "load_before": load_before,
        "load_after": load_now(),
    }
    if ends and poller.dot_trace:
        last_end = max(ends)
        shown = max((d for t, d in poller.dot_trace if t <= last_end), default=0)
        caught = next((t for t, d in poller.dot_trace if d >= len(ends)), None)
        result["backlog"] = len(ends) - shown  # reports not yet shown when the last command ended
        result["catch_up"] = (caught - last_end) if caught is not None else float("nan")
    if report and report_path.exists():
        import json

        t = time.perf_counter()
        doc = json.loads(report_path.read_text())
        result["report_parse"] = time.perf_counter() - t
        result["report_mb"] = report_path.stat().st_size / 2**20
        scr = sorted((s for s in doc["scripts"] if s.get("start") is not None), key=lambda s: s["start"])
        k = len(scr) // 3
        result["report_dur_thirds"] = tuple(
            median([s["end"] - s["start"] for s in part]) for part in (scr[:k], scr[k : 2 * k], scr[2 * k :])
        )
        result["report_start_thirds"] = thirds([s["start"] for s in scr])
        result["report_written"] = doc["run"]["end"] - max(s["end"] for s in scr)
    show(result)
    return result


def show(r: dict) -> None:
    label = f"{r['n']} scripts{' + report' if r['report'] else ''}"
    print(
        f"{label}: exit {r['code']}, {r['commands']} commands, "
        f"wall {r['wall']:.1f}s = {r['per_script'] * 1000:.1f} ms/script "
        f"(load {r['load_before']} -> {r['load_after']})"
    )
    print(
        f"  start-up+collection {r['startup']:.1f}s | running {r['running']:.1f}s "
        f"({r['running'] / max(1, r['commands']) * 1000:.1f} ms/script) | wind-down {r['winddown']:.1f}s"
    )
    if "backlog" in r:
        print(
            f"  controller lag: {r['backlog']} scripts not yet reported by the controller when the last command "
            f"ended; all reported {r['catch_up']:.1f}s later"
        )
    f, m, last = r["thirds"]
    print(
        f"  per script (stand-in starts), first/middle/last third: "
        f"{f * 1000:.1f} / {m * 1000:.1f} / {last * 1000:.1f} ms"
        f"  -> last/first {last / f:.2f}"
    )
    print(
        f"  peak RSS: controller VmHWM {r['ctl_hwm']:.1f} MB (max VmRSS seen {r['ctl_rss']:.1f} MB); "
        f"workers ({r['n_workers']}) VmHWM max {r['wrk_hwm']:.1f} MB, min {r['wrk_hwm_min']:.1f} MB "
        f"[{r['polls']} polls, longest gap {r['max_gap']:.2f}s]"
    )
    trace = r["trace"]
    if len(trace) >= 8:
        picks = [trace[int(q * (len(trace) - 1))] for q in (0.1, 0.25, 0.5, 0.75, 1.0)]
        print(
            "  controller VmRSS over the run (10/25/50/75/100%): "
            + " / ".join(f"{kb / 1024:.1f}" for _, kb in picks)
            + " MB"
        )
    if "report_mb" in r:
        d, s = r["report_dur_thirds"], r["report_start_thirds"]
        print(
            f"  report: {r['report_mb']:.1f} MB, parsed in {r['report_parse']:.2f}s; last script end -> report written "
            f"{r['report_written']:.2f}s"
        )
        print(
            f"  report, per script by thirds: "
            f"median duration {d[0] * 1000:.1f} / {d[1] * 1000:.1f} / {d[2] * 1000:.1f} ms; "
            f"start to start {s[0] * 1000:.1f} / {s[1] * 1000:.1f} / {s[2] * 1000:.1f} ms"
        )
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument(
        "--report-size",
        type=int,
        default=None,
        help="size of the run with --usacloud-report (0: none; default the largest)",
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--poll", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--slow-standin", action="store_true", help="run tests/standin/usacloud via its shebang")
    parser.add_argument("--no-baseline", action="store_true", help="skip the plain pytest + xdist memory baseline")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    report_size = max(sizes) if args.report_size is None else args.report_size
    print(machine_info())
    print(
        f"-n {args.workers}, unlimited rate, progress off, "
        f"{'slow (shebang)' if args.slow_standin else 'fast (python -S .pyc)'} stand-in, no latency"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    started = time.monotonic()
    results = [run_size(tmp, n, args, report=False) for n in sizes]
    if report_size:
        results.append(run_size(tmp, report_size, args, report=True))
    plain = [] if args.no_baseline else [run_plain(tmp, n, args) for n in sizes]
    print()
    print(
        f"{'run':<22} {'wall s':>8} {'ms/script':>9} {'run ms/scr':>10} "
        f"{'1st/last third ms':>18} {'ctl MB':>7} {'worker MB':>9}"
    )
    for r in results:
        label = f"{r['n']}{' + report' if r['report'] else ''}"
        f, _, last = r["thirds"]
        print(
            f"{label:<22} {r['wall']:>8.1f} {r['per_script'] * 1000:>9.1f} "
            f"{r['running'] / max(1, r['commands']) * 1000:>10.1f} "
            f"{f * 1000:>8.1f}/{last * 1000:<9.1f} {r['ctl_hwm']:>7.1f} {r['wrk_hwm']:>9.1f}"
        )
    runs = [r for r in results if not r["report"]]
    if len(runs) >= 2:
        a, b = runs[0], runs[-1]
        per = (b["ctl_hwm"] - a["ctl_hwm"]) * 1024 / max(1, b["n"] - a["n"])
        print(
            f"growth {a['n']} -> {b['n']} scripts: "
            f"controller {b['ctl_hwm'] - a['ctl_hwm']:+.1f} MB ({per:.1f} kB/script), "
            f"worker {b['wrk_hwm'] - a['wrk_hwm']:+.1f} MB (target < 20 MB)"
        )
    if len(plain) >= 2:
        a, b = plain[0], plain[-1]
        per = (b["ctl_hwm"] - a["ctl_hwm"]) * 1024 / max(1, b["n"] - a["n"])
        print(
            f"baseline growth {a['n']} -> {b['n']} plain tests: controller {b['ctl_hwm'] - a['ctl_hwm']:+.1f} MB "
            f"({per:.1f} kB/test), worker {b['wrk_hwm'] - a['wrk_hwm']:+.1f} MB"
        )
    with_report = [r for r in results if r["report"]]
    same = [r for r in runs if with_report and r["n"] == with_report[0]["n"]]
    if with_report and same:
        w, p = with_report[0], same[0]
        print(
            f"report cost at {w['n']} scripts: wall {w['wall'] - p['wall']:+.1f}s, "
            f"controller {w['ctl_hwm'] - p['ctl_hwm']:+.1f} MB, "
            f"wind-down {w['winddown'] - p['winddown']:+.2f}s"
        )
    print(f"total bench time {time.monotonic() - started:.0f}s   (temp dir {tmp})")


if __name__ == "__main__":
    main()
