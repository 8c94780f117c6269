"""Error policies: one failure controls the other scripts across every worker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from standin_tools import AUTH_401, framed, pids_alive, wait_gone, wait_until

LONG = 300  # seconds a long command sleeps if nobody stops it


def long_scripts(e2e, names, sleep=LONG, gated=True):
    """Scripts ``names`` whose second command (region list) sleeps ``sleep`` s, and the failing rules.

    ``gated``: a failing command fails only once some region list has started (the stand-in's
    until/touch), so the failure always lands while a long script runs, however slowly the
    workers start on a loaded machine; else it fails at once (no other script runs alongside)."""
    started = str(e2e.tmp / "region-started")
    wait = {"sleep": 60, "until": started} if gated else {}
    e2e.rules(
        [
            {"match": "server read", "stderr": framed('target resource not found: query=["nope"]'), **wait},
            {"match": "server list --names auth", "stderr": framed(AUTH_401), **wait},
            {"match": "region list", "sleep": sleep, "touch": started},
        ]
    )
    for name in names:
        e2e.script(f"{name}.usacloud", "usacloud zone list\nusacloud region list\nusacloud zone list\n")


def long_running(e2e) -> list[dict]:
    return [e for e in e2e.events() if e.get("event") == "start" and e["argv"][:2] == ["region", "list"]]


def spawned(e2e, pid: int) -> list[int]:
    """The grandchildren (STANDIN_SPAWN_CHILD) the stand-in ``pid`` logged."""
    return [e["child_pid"] for e in e2e.events() if e.get("event") == "spawn" and e["pid"] == pid]


def started_by_word(e2e, *words: str) -> dict | None:
    """The start events of the commands whose first word is one of ``words``, once all of them started."""
    started = {e["argv"][0]: e for e in e2e.events() if e.get("event") == "start"}
    return started if set(words) <= set(started) else None


def assert_stopped(result, e2e, started, cause, cls, unscheduled_ok=False):
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"the session took {elapsed:.1f}s: the long scripts were not cancelled"
    assert result.ret != 0
    outcomes = result.parseoutcomes()
    cancelled = outcomes.get("cancelled", 0)
    assert outcomes.get("failed") == 1 and outcomes.get("passed", 0) == 0
    # with -x, xdist itself stops handing out scripts: one never sent to a worker has no report
    assert cancelled == 4 or (unscheduled_ok and cancelled == 3), outcomes
    reason = f"cancelled: run stopped by scripts/{cause}.usacloud ({cls})"
    lines = [line for line in result.stdout.lines if line.startswith("CANCELLED [")]  # folded by reason
    assert sum(int(line.split("[")[1].split("]")[0]) for line in lines if reason in line) == cancelled, (
        result.stdout.str()
    )
    # the reason stays short (the cause's full error is in its own report); midway, what had started
    assert "2 of its commands had started" in result.stdout.str()
    assert all(len(line) < 160 for line in lines), lines
    assert pids_alive(e2e.pids()) == []
    # no command started after the stop: every long script ran at most its first two commands
    assert sum(1 for c in e2e.events() if c.get("event") == "start" and c["argv"][:2] == ["zone", "list"]) <= 3


@pytest.mark.parametrize("policy", ["stop", "-x"])
def test_stop_cancels_running_and_pending_scripts(e2e, policy):
    long_scripts(e2e, ["b_long", "c_long", "d_long", "e_long"])
    e2e.script("a_fail.usacloud", "usacloud zone list\nusacloud server read nope\n")
    args = ["--usacloud-error-policy=stop"] if policy == "stop" else ["-x"]
    started = time.monotonic()
    result = e2e.run("-rs", *args, workers=3)  # (with 2, -x leaves two scripts unsent)
    assert_stopped(result, e2e, started, "a_fail", "not-found", unscheduled_ok=policy == "-x")


def test_critical_stops_on_an_auth_failure(e2e):
    long_scripts(e2e, ["b_long", "c_long", "d_long", "e_long"])
    e2e.script("a_auth.usacloud", "usacloud zone list\nusacloud server list --names auth\n")
    started = time.monotonic()
    result = e2e.run("-rs", workers=2)  # critical is the default policy
    assert_stopped(result, e2e, started, "a_auth", "auth")


def test_critical_stops_on_a_marked_script(e2e):
    long_scripts(e2e, ["b_long", "c_long", "d_long", "e_long"])
    e2e.script("a_marked.usacloud", "# pytest.mark.usacloud_critical\nusacloud zone list\nusacloud server read nope\n")
    started = time.monotonic()
    result = e2e.run("-rs", "--usacloud-error-policy=critical", workers=2)
    assert_stopped(result, e2e, started, "a_marked", "usacloud_critical, not-found")


@pytest.mark.parametrize("policy", ["critical", "continue"])
def test_ordinary_failures_let_the_others_run(e2e, policy):
    long_scripts(e2e, ["b_long", "c_long", "d_long"], sleep=1.5)
    e2e.script("a_fail.usacloud", "usacloud zone list\nusacloud server read nope\n")
    result = e2e.run(f"--usacloud-error-policy={policy}", workers=2)
    result.assert_outcomes(passed=3, failed=1)
    assert sum(1 for c in e2e.calls() if c["argv"] == ["region", "list"]) == 3


def test_continue_runs_everything_even_after_critical_failures(e2e):
    long_scripts(e2e, ["b_long", "c_long"], sleep=1.5)
    e2e.script("a_auth.usacloud", "# pytest.mark.usacloud_critical\nusacloud server list --names auth\n")
    result = e2e.run("--usacloud-error-policy=continue", workers=2)
    result.assert_outcomes(passed=2, failed=1)


def test_x_without_xdist(e2e):
    long_scripts(e2e, ["b_long", "c_long"], gated=False)
    e2e.script("a_fail.usacloud", "usacloud server read nope\n")
    started = time.monotonic()
    result = e2e.run("-x")
    assert time.monotonic() - started < 60
    result.assert_outcomes(failed=1)
    assert [c["argv"] for c in e2e.calls()] == [["server", "read", "nope"]]


def test_maxfail_counts_failures_across_workers(e2e):
    long_scripts(e2e, ["c_long", "d_long"], gated=False)  # the failing scripts come first on both workers
    e2e.script("a_fail.usacloud", "usacloud server read nope\n")
    e2e.script("b_fail.usacloud", "usacloud zone list\nusacloud zone list\nusacloud server read nope\n")
    started = time.monotonic()
    result = e2e.run("--maxfail=2", workers=2)
    assert time.monotonic() - started < 60
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 2
    assert pids_alive(e2e.pids()) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("workers", [0, 2])
def test_interrupt_leaves_no_process_behind(e2e, sig, workers):
    e2e.env(STANDIN_SPAWN_CHILD=1, STANDIN_CHILD_SLEEP=LONG)
    long_scripts(e2e, ["a_long", "b_long", "c_long"])
    proc = e2e.start(workers=workers)
    try:
        running = wait_until(lambda: len(long_running(e2e)) >= max(1, workers) and long_running(e2e), 60, "long ones")
        wait_until(lambda: all(spawned(e2e, e["pid"]) for e in running), 30, "their children")
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.decode(errors="replace")
    assert proc.returncode != 0, text
    pids = e2e.pids()
    assert pids
    assert wait_gone(pids, 5) == [], text


def test_a_dead_worker_leaves_no_process_behind(e2e):
    """A worker killed outright cannot clean up: the controller sweeps its children's process groups
    when xdist reports the crash (and again at the end of the session)."""
    e2e.env(STANDIN_SPAWN_CHILD=1, STANDIN_CHILD_SLEEP=LONG)
    go = e2e.tmp / "go"  # b_other's command runs until the test has seen the sweep
    e2e.rules([{"match": "region list", "sleep": LONG}, {"match": "disk-plan list", "sleep": 120, "until": str(go)}])
    e2e.script("a_long.usacloud", "usacloud region list\n")
    e2e.script("b_other.usacloud", "usacloud disk-plan list --zone tk1v\n")
    proc = e2e.start("--usacloud-error-policy=continue", "-rA", workers=2)
    try:
        started = wait_until(lambda: started_by_word(e2e, "region", "disk-plan"), 60, "both commands")
        wait_until(lambda: spawned(e2e, started["region"]["pid"]), 30, "the long command's child")
    except AssertionError:
        proc.kill()
        raise
    victim = started["region"]
    os.kill(victim["ppid"], signal.SIGKILL)  # the xdist worker that launched it
    orphans = [victim["pid"], *spawned(e2e, victim["pid"])]
    assert wait_gone(orphans, 8) == [], "the dead worker's usacloud outlived the crash report"
    assert proc.poll() is None, "the session should still be running the other script"
    go.touch()
    out = proc.communicate(timeout=120)[0].decode()
    assert "crashed while running" in out, out
    assert "scripts: 1 passed, 1 failed" in out, out
    assert wait_gone(e2e.pids()) == []


def test_kill_9_of_a_single_process_run_leaves_no_process_behind(e2e):
    """Commands mode, no xdist, nobody left to sweep: the process's watchdog kills the running
    command and what it started, though pytest itself was killed outright."""
    e2e.env(STANDIN_SPAWN_CHILD=1, STANDIN_CHILD_SLEEP=LONG)
    e2e.rules([{"match": "region list", "sleep": LONG}])
    e2e.script("long.usacloud", "usacloud region list\n")
    proc = e2e.start()
    try:
        wait_until(lambda: any(e.get("event") == "spawn" for e in e2e.events()), what="the long command's child")
        proc.kill()
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    pids = e2e.pids()
    assert len(pids) == 2
    assert wait_gone(pids) == []


def test_a_suite_started_with_sigint_and_sighup_ignored_gives_its_inner_runs_the_default():
    """``nohup pytest ... &`` starts the suite with SIGHUP and SIGINT ignored: the suite goes on
    ignoring them, and its inner runs still stop on them."""
    child = (
        "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, "
        "signal.getsignal(signal.SIGHUP) is signal.SIG_DFL)"
    )
    code = (
        "import os, signal, subprocess, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import conftest\n"
        "conftest.pytest_configure(None)\n"
        "os.kill(os.getpid(), signal.SIGINT); os.kill(os.getpid(), signal.SIGHUP)\n"
        f"print(subprocess.run([sys.executable, '-c', {child!r}], capture_output=True, text=True).stdout.strip())\n"
    )
    ignored = (signal.SIGINT, signal.SIGHUP)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: [signal.signal(signum, signal.SIG_IGN) for signum in ignored],
    )
    assert done.returncode == 0 and done.stdout.strip() == "True True", done.stderr
