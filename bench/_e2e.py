"""Shared plumbing for the end-to-end benches (run_precision, scale, makespan, cancel_latency).

Each bench runs an *inner* pytest with the plugin against the stand-in usacloud, exactly as the
test suite does (tests/conftest.py): plugin autoload off, ``-p xdist.plugin -p
pytest_usacloud_sandbox.plugin``, ``--usacloud-bin=<stand-in>``, a private XDG cache (never the
user's token bucket) and a private state file or Redis.

The stand-in is started through a two-line ``sh`` wrapper that ``exec``s this interpreter with
``-S`` on the stand-in's precompiled bytecode (tests/standin_tools.STANDIN_CMD): same program,
same pid (exec), ~45 ms a call instead of ~150-300 ms through its ``#!/usr/bin/env python3``
shebang. ``--slow-standin`` on every bench uses tests/standin/usacloud as it is.

Not part of the test suite: nothing here is collected by pytest (bench/ is outside testpaths).
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from ratecheck import worst_window  # noqa: E402 -- needs the sys.path setup above
from standin_tools import STANDIN_BIN, STANDIN_CMD, pids_alive, read_events, standin_env  # noqa: E402 -- same

INNER_PLUGINS = ["-p", "xdist.plugin", "-p", "pytest_usacloud_sandbox.plugin"]


# -- the machine ------------------------------------------------------------------------------


def machine_info() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout.splitlines()[1].split()
        mem_text = f"mem total {mem[1]}, available {mem[-1]}"
    except (OSError, IndexError):
        mem_text = "mem ?"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"nproc {os.cpu_count()} | {cpu} | {mem_text} | python {platform.python_version()} | load average {load}"


def load_now() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# -- the stand-in and the inner pytest ----------------------------------------------------------


def standin_binary(tmp: Path, slow: bool = False) -> str:
    """The usacloud the plugin runs: a fast exec wrapper (default) or the stand-in script itself."""
    if slow or STANDIN_CMD[-1] == str(STANDIN_BIN):
        return str(STANDIN_BIN)
    wrapper = Path(tmp) / "usacloud"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(STANDIN_CMD[0])} -S {shlex.quote(STANDIN_CMD[2])} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def bench_env(tmp: Path, **overrides) -> dict:
    """standin_env + autoload off + private XDG cache and TMPDIR (the plugin's run dir goes there)."""
    tmp = Path(tmp)
    (tmp / "cache").mkdir(exist_ok=True)
    (tmp / "tmp").mkdir(exist_ok=True)
    env = standin_env(tmp, **overrides)
    env["XDG_CACHE_HOME"] = str(tmp / "cache")
    env["TMPDIR"] = str(tmp / "tmp")
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    return env


def pytest_argv(scripts_dir: Path, usacloud_bin: str, *args: str, workers: int = 0) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "pytest",
        *INNER_PLUGINS,
        f"--usacloud-scripts={scripts_dir}",
        f"--usacloud-bin={usacloud_bin}",
        "-p",
        "no:cacheprovider",
        f"--rootdir={scripts_dir}",
        "-q",
    ]
    if workers:
        argv += ["-n", str(workers)]
    return argv + list(args)


def start_pytest(argv: list[str], env: dict, cwd: Path, out_path: Path) -> subprocess.Popen:
    out = open(out_path, "wb")  # noqa: SIM115 - closed by finish()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    proc._bench_out = out  # type: ignore[attr-defined]
    return proc


def finish(proc: subprocess.Popen, timeout: float | None = None) -> int:
    try:
        return proc.wait(timeout)
    finally:
        out = getattr(proc, "_bench_out", None)
        if out is not None:
            out.close()


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# -- the report ---------------------------------------------------------------------------------


def load_report(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def attempts(doc: dict) -> list[dict]:
    return [a for s in doc["scripts"] for c in s["commands"] for a in c["attempts"]]


def window_check(times: list[float], rate: float, burst: int) -> dict:
    """Worst window against burst + R*T (no jitter allowance) and the achieved rate over the span."""
    times = sorted(times)
    excess, count, span = worst_window(times, rate, burst, jitter=0.0)
    spread = times[-1] - times[0] if len(times) > 1 else 0.0
    achieved = (len(times) - 1) / spread if spread > 0 else float("inf")
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return {
        "n": len(times),
        "excess": excess,
        "count": count,
        "span": span,
        "bound": burst + rate * span,
        # token_at has millisecond resolution (the file store's clock), so grants exactly k/R apart
        # land on the bound, and epoch floats (~2.4e-7 s apart near 1.7e9) round either way:
        # 1e-3 token (50 us at 20/s; a real violation is at least 1 ms) absorbs that.
        "violation": excess > 1e-3,
        "achieved": achieved,
        "ratio": achieved / rate,
        "min_gap": min(gaps) if gaps else None,
        "jitter_needed": max(0.0, excess) / rate,
    }


def describe_window(label: str, w: dict) -> str:
    verdict = "VIOLATION" if w["violation"] else "ok"
    return (
        f"  {label}: worst window {w['count']} in {w['span'] * 1000:8.1f} ms vs bound {w['bound']:7.2f} "
        f"(excess {w['excess']:+.3f} tokens = {w['jitter_needed'] * 1000:.1f} ms) {verdict}; "
        f"closest two {w['min_gap'] * 1000:6.1f} ms apart; "
        f"achieved {w['achieved']:.3f}/s = {w['ratio']:.4f} x R"
    )


def lost_time(doc_list: list[dict], rate: float) -> dict:
    """Where the grants fell behind 1/R: no command was ready (demand) or one was and waited (limiter).

    For each gap between consecutive grants, the slot opens 1/R after the earlier grant. A command
    is *ready* when its script's previous attempt ended (or the script started, for its first
    command). If the earliest ready command among the later grants was ready only after the slot
    opened, that part of the gap is demand-starved (workers busy launching, reporting, pytest/xdist
    between scripts); the rest is the limiter's own lateness (wake-up, lock, store round trip).
    """
    entries = []  # (token_at, ready)
    for doc in doc_list:
        for script in doc["scripts"]:
            ready = script["start"]
            for cmd in script["commands"]:
                for att in cmd["attempts"]:
                    entries.append((att["token_at"], ready))
                    ready = att["end"]
    entries.sort()
    interval = 1 / rate
    starved = late = 0.0
    late_gaps = []
    # suffix minimum of ready times: the earliest-ready command among grants k+1..n
    suffix = [0.0] * len(entries)
    best = float("inf")
    for k in range(len(entries) - 1, -1, -1):
        best = min(best, entries[k][1])
        suffix[k] = best
    for k in range(len(entries) - 1):
        slot = entries[k][0] + interval
        extra = entries[k + 1][0] - slot
        if extra <= 0:
            continue
        s = min(extra, max(0.0, suffix[k + 1] - slot))
        starved += s
        late += extra - s
        late_gaps.append(extra - s)
    span = entries[-1][0] - entries[0][0] if len(entries) > 1 else 0.0
    return {
        "span": span,
        "ideal": (len(entries) - 1) * interval,
        "starved": starved,
        "late": late,
        "late_per_grant_ms": late / max(1, len(entries) - 1) * 1000,
        "late_p99_ms": pct(late_gaps, 99) * 1000 if late_gaps else 0.0,
    }


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def median(values):
    return statistics.median(values) if values else float("nan")


# -- processes ----------------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (scans /proc: this kernel has no task/*/children files)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        rest = stat[stat.rindex(b")") + 2 :].split()
        if int(rest[1]) == pid:
            found.append(int(entry))
    return found


def mem_kb(pid: int) -> tuple[int, int] | None:
    """(VmHWM, VmRSS) in kB, or None if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    hwm = rss = 0
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
        elif line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return hwm, rss


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# -- Redis --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """USACLOUD_TEST_REDIS_URL if set, else a redis-server of our own on loopback (killed by stop())."""

    def __init__(self, directory: Path) -> None:
        self.proc = None
        shared = os.environ.get("USACLOUD_TEST_REDIS_URL", "")
        if shared:
            self.url, self.origin = shared, "USACLOUD_TEST_REDIS_URL"
            return
        if not shutil.which("redis-server"):
            raise RuntimeError("no USACLOUD_TEST_REDIS_URL and no redis-server on PATH")
        port = _free_port()
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url, self.origin = f"redis://127.0.0.1:{port}/0", f"private redis-server pid {self.proc.pid}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


__all__ = [
    "INNER_PLUGINS",
    "STANDIN_BIN",
    "PrivateRedis",
    "attempts",
    "bench_env",
    "children_of",
    "cmdline",
    "describe_window",
    "finish",
    "load_now",
    "load_report",
    "machine_info",
    "median",
    "mem_kb",
    "pct",
    "pids_alive",
    "pytest_argv",
    "read_events",
    "standin_binary",
    "start_pytest",
    "tail",
    "window_check",
]
