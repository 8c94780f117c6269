"""Running one command: process group, timeout, cancel, bounded output, the registry of children."""

import contextlib
import fcntl
import os
import select
import signal
import subprocess
import sys
import threading
import time

from standin_tools import pids_alive, unread_bytes, wait_gone, wait_until

from pytest_usacloud_sandbox.run import runner
from pytest_usacloud_sandbox.state.children import Children, sweep

PY = sys.executable
ENV = dict(os.environ)


def test_captures_output_and_exit_code():
    res = runner.run_command(
        [PY, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"], ENV, 30
    )
    assert (res.exit_code, res.stdout, res.stderr) == (3, "out\n", "err\n")
    assert res.signal is None and not res.timed_out and not res.truncated


def test_stdin_is_devnull_and_own_process_group():
    code = "import os, sys; print(os.getpgid(0) == os.getpid(), repr(sys.stdin.read()))"
    res = runner.run_command([PY, "-c", code], ENV, 30)
    assert res.stdout.strip() == "True ''"


def test_output_is_bounded_to_the_tail():
    code = "import sys; sys.stdout.write('a' * 200000 + 'END')"
    res = runner.run_command([PY, "-c", code], ENV, 30, tail_bytes=1024)
    assert len(res.stdout) == 1024 and res.stdout.endswith("END") and res.truncated


def test_missing_binary():
    res = runner.run_command(["/nonexistent/usacloud", "server", "list"], ENV, 30)
    assert res.exit_code is None and "nonexistent" in res.launch_error


def _sleeper_with_grandchild(tmp_path):
    """A shell that starts ``sleep 300`` in its group, writes both pids, and waits.

    sh, not Python: it reaches its pid file in about a millisecond, long before any timeout here
    fires, even on a loaded machine."""
    pidfile = tmp_path / "pids"
    return ["sh", "-c", f"sleep 300 & echo $$ $! > {pidfile}.tmp; mv {pidfile}.tmp {pidfile}; wait"], pidfile


def _pids(pidfile):
    return [int(p) for p in wait_until(pidfile.exists, 30, "the pid file") and pidfile.read_text().split()]


@contextlib.contextmanager
def _children_ignore_term():
    """Children started meanwhile ignore SIGTERM from their very first instruction.

    An ignored signal stays ignored through fork and exec: a handler the child installed itself
    could come too late (a loaded machine may TERM it before its first line ran). pytest runs
    tests in the main thread, where the disposition may be set; it is put back at once."""
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_timeout_kills_the_whole_group(tmp_path):
    argv, pidfile = _sleeper_with_grandchild(tmp_path)
    res = runner.run_command(argv, ENV, timeout=1.0)
    assert res.timed_out and res.signal == 15 and res.duration < 10
    assert wait_gone(_pids(pidfile)) == []


def test_term_then_kill(tmp_path):
    argv, pidfile = _sleeper_with_grandchild(tmp_path)
    with _children_ignore_term():
        res = runner.run_command(argv, ENV, timeout=1.0)  # sh writes its pids within milliseconds
    assert res.timed_out and res.signal == 9
    assert res.duration >= 1.0 + runner.TERM_GRACE  # it waited for TERM, then killed
    assert wait_gone(_pids(pidfile)) == []


def test_cancel_through_should_stop(tmp_path):
    flag = tmp_path / "stop"
    argv, _pidfile = _sleeper_with_grandchild(tmp_path)
    calls = []

    def should_stop():
        calls.append(1)
        if len(calls) == 10:
            flag.touch()
        return flag.exists()

    res = runner.run_command(argv, ENV, timeout=60, should_stop=should_stop)
    assert res.cancelled and not res.timed_out
    assert len(calls) >= 10


def test_grandchild_holding_the_pipe_does_not_hang(tmp_path):
    code = "import subprocess; subprocess.Popen(['sleep', '300']); print('done')"
    res = runner.run_command([PY, "-c", code], ENV, timeout=60)
    assert res.exit_code == 0 and res.stdout == "done\n" and res.duration < 30


def test_registry_files_and_sweep(tmp_path):
    registry = tmp_path / "children" / "gw0"  # one directory per worker, swept from the top
    children = Children(registry)
    res = runner.run_command([PY, "-c", "print(1)"], ENV, 30, children=children)
    assert res.exit_code == 0
    assert list(registry.iterdir()) == []  # removed when the child finished
    # a file left by a worker that died is swept: its process group is killed
    orphan = subprocess.Popen(["sleep", "300"], start_new_session=True)
    (registry / str(orphan.pid)).touch()
    assert sweep(tmp_path / "children") == 1
    orphan.wait(5)
    assert orphan.returncode == -9


def test_terminate_all_stops_running_children(tmp_path):
    argv, pidfile = _sleeper_with_grandchild(tmp_path)
    children = Children()
    results = []
    thread = threading.Thread(
        target=lambda: results.append(runner.run_command(argv, ENV, timeout=120, children=children))
    )
    thread.start()
    _pids(pidfile)  # running, and in its group
    assert len(children) == 1
    assert children.terminate_all() == 1
    thread.join(10)
    assert results and results[0].signal == 15
    assert len(children) == 0


def test_two_owners_do_not_share_children(tmp_path):
    """No module-level registry: each process (or test) owns its children."""
    argv, pidfile = _sleeper_with_grandchild(tmp_path)
    mine, other = Children(), Children()
    thread = threading.Thread(target=lambda: runner.run_command(argv, ENV, timeout=120, children=mine))
    thread.start()
    _pids(pidfile)  # running, and in its group
    wait_until(lambda: len(mine), 30, "the run registering its child")  # the child may write first
    assert (len(mine), len(other)) == (1, 0)
    assert other.terminate_all() == 0
    assert mine.terminate_all() == 1
    thread.join(10)


def test_forwards_output_as_it_comes_and_keeps_the_tails(tmp_path):
    """The one output pump: copies to the caller's descriptors (pipe, file, /dev/null) and keeps tails."""
    read_end, write_end = os.pipe()
    full = fcntl.fcntl(read_end, fcntl.F_GETPIPE_SZ) - select.PIPE_BUF  # no room left for the rest of the output
    target = tmp_path / "err"
    got = []

    def reader():
        with os.fdopen(read_end, "rb") as fh:
            wait_until(lambda: unread_bytes(read_end) >= full, 30, "a full pipe")  # a slow reader: the pump must wait
            got.append(fh.read())

    thread = threading.Thread(target=reader)
    thread.start()
    with open(target, "ab") as err, open(os.devnull, "wb") as null:
        res = runner.run_command(
            [PY, "-c", "import sys; print('o' * 100000); print('e', file=sys.stderr)"],
            ENV,
            30,
            tail_bytes=1000,
            forward=(write_end, err.fileno()),
        )
        os.close(write_end)
        thread.join(30)
        assert got == [b"o" * 100000 + b"\n"]  # all of it, through a pipe smaller than the output
        assert target.read_bytes() == b"e\n"
        assert res.exit_code == 0 and res.stdout == "o" * 999 + "\n" and res.truncated
        res = runner.run_command([PY, "-c", "print('x')"], ENV, 30, forward=(null.fileno(), null.fileno()))
        assert res.stdout == "x\n"


def test_a_reader_that_went_away_does_not_stop_the_command():
    read_end, write_end = os.pipe()
    os.close(read_end)  # `usacloud ... | head -1` after head exited
    res = runner.run_command([PY, "-c", "print('x' * 300000); print('done')"], ENV, 30, forward=(write_end, None))
    os.close(write_end)
    assert res.exit_code == 0 and res.stdout.endswith("done\n")


def test_a_reader_that_never_reads_does_not_outlast_the_timeout():
    read_end, write_end = os.pipe()
    started = time.monotonic()
    res = runner.run_command(
        [PY, "-c", "import time; print('x' * 300000, flush=True); time.sleep(60)"], ENV, 1.0, forward=(write_end, None)
    )
    assert res.timed_out and time.monotonic() - started < 15
    os.close(read_end)
    os.close(write_end)


def test_a_caller_gone_cancels_the_command():
    import socket

    mine, theirs = socket.socketpair()
    threading.Timer(0.5, theirs.close).start()
    started = time.monotonic()
    res = runner.run_command([PY, "-c", "import time; time.sleep(60)"], ENV, 60, watch=mine)
    assert res.cancelled and time.monotonic() - started < 15
    mine.close()


def test_children_die_with_their_process_even_on_sigkill(tmp_path):
    """The parent-death signal, for a child started from a thread other than the main one."""
    if runner.death_signal().setpriv is None and runner.death_signal().prctl is None:
        import pytest

        pytest.skip("no way to ask for a parent-death signal here")
    pidfile = tmp_path / "pid"
    code = (
        "import os, sys, threading, time\n"
        "from pytest_usacloud_sandbox.run import runner\n"
        f"argv = ['sh', '-c', 'echo $$ > {pidfile}; exec sleep 300']\n"
        "threading.Thread(target=runner.run_command, args=(argv, dict(os.environ), 600), daemon=True).start()\n"
        "time.sleep(300)\n"
    )
    parent = subprocess.Popen([PY, "-c", code], env=ENV)
    try:
        child = int(wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 30, "the child's pid"))
        parent.kill()
        parent.wait()
        assert wait_gone([child]) == []
    finally:
        if parent.poll() is None:
            parent.kill()


def _read(path) -> str:
    return path.read_text() if path.exists() else ""


def test_the_watchdog_kills_what_a_sigkilled_process_left(tmp_path):
    """Without a setpriv per command: the process's watchdog kills its children's groups
    and, by the mark in their environment, what they moved out of the group (here: another session)."""
    pidfile = tmp_path / "pids"
    code = (
        "import os, sys, threading, time\n"
        "from pathlib import Path\n"
        "from pytest_usacloud_sandbox.run import runner\n"
        "from pytest_usacloud_sandbox.state.children import Children\n"
        f"children = Children(Path({str(tmp_path / 'registry')!r}))\n"
        f"argv = ['sh', '-c', 'setsid sleep 300 & echo $! > {pidfile}; echo $$ >> {pidfile}; exec sleep 300']\n"
        "threading.Thread(target=runner.run_command, args=(argv, dict(os.environ), 600),\n"
        "                 kwargs={'children': children}, daemon=True).start()\n"
        "time.sleep(300)\n"
    )
    parent = subprocess.Popen([PY, "-c", code], env=ENV)
    try:
        words = wait_until(lambda: len(text := _read(pidfile).split()) >= 2 and text, 30, "two pids")
        pids = [int(p) for p in words]
        assert pids_alive(pids) == pids
        parent.kill()
        parent.wait()
        assert wait_gone(pids) == []
    finally:
        if parent.poll() is None:
            parent.kill()


def test_the_watchdog_ends_with_the_session_and_takes_stragglers(tmp_path):
    children = Children(tmp_path / "registry")
    name, token = children.mark()
    watchdog = children.guard.pid
    assert pids_alive([watchdog]) == [watchdog] and os.getsid(watchdog) == watchdog  # its own session: no Ctrl-C
    # something that escaped terminate_all (not registered, own session), carrying the mark
    straggler = subprocess.Popen(["sleep", "300"], env={**ENV, name: token}, start_new_session=True)
    stranger = subprocess.Popen(["sleep", "300"], env={**ENV, name: "another-process"}, start_new_session=True)
    try:
        children.close()
        assert pids_alive([watchdog]) == []
        assert straggler.wait(10) == -9
        assert stranger.poll() is None  # another guard's mark: not ours to kill
    finally:
        for proc in (straggler, stranger):
            proc.kill()
            proc.wait()


def test_a_watchdog_killed_from_outside_is_replaced(tmp_path):
    children = Children(tmp_path / "registry")
    try:
        first = children.mark()
        killed = children.guard.pid
        os.kill(killed, signal.SIGKILL)
        assert wait_gone([killed]) == []
        assert children.mark() == first
        assert children.guard.running and pids_alive([children.guard.pid]) == [children.guard.pid] != [killed]
        res = runner.run_command([PY, "-c", f"import os; print(os.environ[{first[0]!r}])"], ENV, 30, children=children)
        assert res.stdout.strip() == first[1]  # every child carries the mark
    finally:
        children.close()


def test_the_death_signal_falls_back_to_prctl_and_keeps_launch_errors(tmp_path):
    fallback = runner.DeathSignal(None, runner.death_signal().prctl)
    argv, preexec = fallback.wrap(["true"], ENV)
    assert argv == ["true"] and (preexec is not None) == (runner.death_signal().prctl is not None)
    if runner.death_signal().setpriv is not None:  # a missing program is started bare: Popen's error is clearer
        assert runner.death_signal().wrap(["/nonexistent/usacloud"], ENV)[0] == ["/nonexistent/usacloud"]
        assert runner.death_signal().wrap(["sh"], ENV)[0][-2:] == ["--", "sh"]


def test_usacloud_version_is_asked_as_a_child_of_the_run(tmp_path):
    from pytest_usacloud_sandbox.run.execute import Engine
    from pytest_usacloud_sandbox.settings import Settings
    from pytest_usacloud_sandbox.state.stop import StopSignal

    def engine(binary) -> Engine:
        return Engine(Settings(), binary, StopSignal(tmp_path / "stop"), {"PATH": os.environ["PATH"]}, tmp_path)

    answers = tmp_path / "usacloud"
    answers.write_text("#!/bin/sh\necho\necho 1.22.8\n")
    answers.chmod(0o755)
    assert engine(str(answers)).usacloud_version() == "1.22.8"
    assert engine(str(tmp_path / "missing")).usacloud_version() is None
    assert engine(None).usacloud_version() is None
    # one that hangs is ended at the timeout with what it started (its own process group)
    hangs = tmp_path / "hangs"
    pidfile = tmp_path / "pids"
    hangs.write_text(f"#!/bin/sh\nsleep 300 &\necho $$ $! > {pidfile}\nwait\n")
    hangs.chmod(0o755)
    started = time.monotonic()
    assert engine(str(hangs)).usacloud_version(timeout=1.0) is None
    assert time.monotonic() - started < 30
    assert wait_gone(_pids(pidfile), 5) == []
