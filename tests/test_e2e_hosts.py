"""xdist workers on several hosts keep every guarantee.

The "remote" workers run in their own mount namespace (tests/hosts.py): a private /tmp and cache,
so they see neither the controller's run directory nor its token-bucket file, as on another
machine; local workers run beside them in the same session. Skipped, with the reason, where
``unshare -m`` is not permitted.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from hosts import e2e_host, tx
from ratecheck import assert_run_held
from redis_tools import private_redis
from standin_tools import framed, pids_alive, wait_gone, wait_until

LONG = {"match": "region list", "sleep": 300}
FAILS = {"match": "region list", "exit": 1, "stderr": framed('target resource not found: query=["r"]'), "sleep": 1.0}
SCRIPT = "usacloud zone list\nusacloud region list\nusacloud zone list\n"
#: Cancelling is measured by bench/cancel_latency.py (--remote); here only that it is not a timeout
#: nor execnet's own 5 s fallback, with room for a loaded 2-core machine.
CANCEL_MARGIN = 3.0


def test_the_file_bucket_with_a_worker_on_another_host_is_a_usage_error(e2e):
    wrapper = e2e_host(e2e)
    for n in range(3):
        e2e.script(f"s{n}.usacloud", "usacloud zone list\n")
    result = e2e.run(*tx(1, 1, wrapper), rate="5")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    err = " ".join(result.stderr.str().split())
    assert "xdist worker gw1 cannot see this run's directory" in err
    assert "--usacloud-rate-backend=redis://" in err
    assert e2e.calls() == [], "a command ran before the usage error"
    assert "usacloud sandbox summary" not in result.stdout.str()
    # without a bucket the same hosts are fine: stop and counters go through xdist's channel
    result = e2e.run(*tx(1, 1, wrapper), "--usacloud-dry-run")
    result.assert_outcomes(passed=3)


def test_the_rate_bound_holds_over_hosts_with_redis(e2e):
    wrapper = e2e_host(e2e)
    rate, scripts, commands = 8.0, 6, 4
    for n in range(scripts):
        e2e.script(f"s{n}.usacloud", "usacloud zone list\n" * commands)
    report = e2e.tmp / "report.json"
    with private_redis(e2e.tmp) as server:
        result = e2e.run(
            *tx(1, 2, wrapper),
            f"--usacloud-rate-backend={server.url}",
            "--usacloud-burst=1",
            f"--usacloud-report={report}",
            rate=str(rate),
        )
    result.assert_outcomes(passed=scripts)
    assert_run_held(report, [c["start"] for c in e2e.calls()], rate, 1)
    doc = json.loads(report.read_text())
    assert {s["worker"] for s in doc["scripts"]} >= {"gw1", "gw2"}, "no script ran on the simulated host"
    assert doc["run"]["attempts"] == scripts * commands
    # the counters of the remote workers reach the controller (workeroutput, and live)
    assert f"tokens {scripts * commands} | attempts {scripts * commands}" in result.stdout.str()


@pytest.mark.parametrize(
    ("where", "local", "remote"),
    [("remote", 2, 1), ("local", 1, 2)],
    ids=["remote-stops-all", "local-stops-remote"],
)
def test_a_failure_on_one_host_stops_every_host(e2e, where, local, remote):
    """Every worker's second command sleeps 300 s, except on the failing host, where it fails once
    every worker of the other host runs one (the stand-in's touch/until_count: however late the
    simulated host's workers start on a loaded machine)."""
    e2e.env(STANDIN_SPAWN_CHILD=1, STANDIN_CHILD_SLEEP=300)
    running = e2e.tmp / "running"  # one file per long command started, seen by both hosts
    running.mkdir()
    waiting_workers = local if where == "remote" else remote
    failing = [{**FAILS, "sleep": 60, "until": str(running), "until_count": waiting_workers}]
    waiting = [{**LONG, "touch": str(running / "{pid}")}]
    wrapper = e2e_host(
        e2e,
        remote_rules=failing if where == "remote" else waiting,
        local_rules=failing if where == "local" else waiting,
    )
    total = 7
    for n in range(total):
        e2e.script(f"s{n}.usacloud", SCRIPT)
    report = e2e.tmp / "report.json"
    started = time.monotonic()
    result = e2e.run("-rs", *tx(local, remote, wrapper), "--usacloud-error-policy=stop", f"--usacloud-report={report}")
    assert time.monotonic() - started < 120, "the long commands were not cancelled"
    out = result.stdout.str()

    doc = json.loads(report.read_text())
    by_outcome = {}
    for s in doc["scripts"]:
        by_outcome.setdefault(s["outcome"], []).append(s)
    assert len(doc["scripts"]) == total, "the report misses scripts"
    assert len(by_outcome["failed"]) == 1 and "passed" not in by_outcome, {k: len(v) for k, v in by_outcome.items()}
    culprit = by_outcome["failed"][0]
    remote_ids = {f"gw{n}" for n in range(local, local + remote)}
    assert (culprit["worker"] in remote_ids) == (where == "remote"), culprit["worker"]
    cancelled = by_outcome["cancelled"]
    assert len(cancelled) == total - 1
    assert {s["worker"] for s in cancelled} & remote_ids and {s["worker"] for s in cancelled} - remote_ids
    assert f"scripts: 0 passed, 1 failed, {total - 1} cancelled (of {total})" in out
    assert f"run stopped by {culprit['nodeid']} (not-found)" in doc["run"]["stop_reason"]
    reason = f"cancelled: run stopped by {culprit['nodeid'].split('::')[0]} (not-found)"  # short skip reasons
    assert all(s["message"].startswith(reason) for s in cancelled), [s["message"] for s in cancelled]
    assert f"1 failed, {total - 1} cancelled in " in result.stdout.lines[-1], out

    # the long commands running on the other host were cancelled, not timed out
    failed_at = max(a["end"] for c in culprit["commands"] for a in c["attempts"])
    interrupted = [
        (s["worker"], a["end"] - failed_at)
        for s in cancelled
        for c in s["commands"]
        if c["status"] == "cancelled"
        for a in c["attempts"]
    ]
    other_host = {f"gw{n}" for n in range(local + remote)} - remote_ids if where == "remote" else remote_ids
    assert {w for w, _ in interrupted} == other_host, interrupted  # every worker there had one running
    assert max(d for _, d in interrupted) < CANCEL_MARGIN, interrupted
    assert wait_gone(e2e.pids(), 5) == [], "a usacloud (or its child) outlived the run"


def test_a_worker_that_loses_its_controller_kills_its_children_on_every_host(e2e):
    e2e.env(STANDIN_SPAWN_CHILD=1, STANDIN_CHILD_SLEEP=300)
    wrapper = e2e_host(e2e, remote_rules=[LONG], local_rules=[LONG])
    for n in range(4):
        e2e.script(f"s{n}.usacloud", SCRIPT)
    controller = e2e.start(*tx(1, 1, wrapper))
    workers: list[int] = []
    try:
        workers = sorted({e["ppid"] for e in wait_running(e2e, 2)})
        controller.kill()  # the controller crashes: each worker's channel ends
        controller.communicate(timeout=30)
        killed_at = time.monotonic()
        left = wait_gone(e2e.pids(), CANCEL_MARGIN)
        took = time.monotonic() - killed_at
        assert left == [], f"still running {CANCEL_MARGIN}s after the controller died: {left}"
        assert wait_gone(workers, 60) == [], "a worker outlived its controller"
    finally:
        if controller.poll() is None:
            controller.kill()
        for pid in pids_alive(e2e.pids() + workers):  # only if the test failed: leave nothing behind
            os.kill(pid, signal.SIGKILL)
    print(f"children gone {took:.2f}s after the controller died")


def wait_running(e2e, hosts: int) -> list[dict]:
    """The long commands' start events once one runs (with its grandchild) under ``hosts`` workers."""

    def running() -> list[dict] | None:
        long = [e for e in e2e.events() if e.get("event") == "start" and e["argv"][:2] == ["region", "list"]]
        spawned = {e["pid"] for e in e2e.events() if e.get("event") == "spawn"}
        return long if len({e["ppid"] for e in long}) == hosts and {e["pid"] for e in long} <= spawned else None

    return wait_until(running, 90, "the long commands on every host")


def test_ctrl_c_on_the_controller_leaves_nothing_running_on_any_host(e2e):
    """SIGINT to the controller alone (an ssh worker gets no signal from the controller's terminal)."""
    e2e.env(STANDIN_SPAWN_CHILD=1, STANDIN_CHILD_SLEEP=300)
    wrapper = e2e_host(e2e, remote_rules=[LONG], local_rules=[LONG])
    for n in range(4):
        e2e.script(f"s{n}.usacloud", SCRIPT)
    controller = e2e.start("-rs", *tx(1, 1, wrapper))
    try:
        wait_running(e2e, 2)
        controller.send_signal(signal.SIGINT)
        out = controller.communicate(timeout=90)[0].decode(errors="replace")
    finally:
        if controller.poll() is None:
            controller.kill()
    assert controller.returncode != 0, out
    assert wait_gone(e2e.pids(), 5) == [], out
    assert "run stopped by (interrupt) (interrupted)" in out, out


def test_a_timeout_on_another_host_ends_the_whole_process_group(e2e):
    e2e.env(STANDIN_SPAWN_CHILD=1, STANDIN_CHILD_SLEEP=300)
    wrapper = e2e_host(e2e, remote_rules=[LONG], local_rules=[])
    e2e.script("s0.usacloud", "usacloud region list\n")
    # 3 s: time for the remote stand-in to start and spawn its child first, however loaded the machine
    result = e2e.run(*tx(0, 1, wrapper), "--usacloud-timeout=3", "--usacloud-error-policy=continue")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["timeout: *", "  at *s0.usacloud:1"])
    started = [e for e in e2e.events() if e.get("event") == "start"]
    assert [e["argv"][:2] for e in started] == [["region", "list"]]
    assert len(e2e.pids()) == 2, "the stand-in had not spawned its child before the timeout"
    assert wait_gone(e2e.pids(), 5) == []
