"""Running one command: process group, timeout, cancel, bounded output, the registry of children."""

import os
import subprocess
import sys
import threading
import time

from pytest_usacloud_sandbox.run import runner
from pytest_usacloud_sandbox.state.children import Children, sweep

PY = sys.executable
ENV = dict(os.environ)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


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


def _sleeper_with_grandchild(tmp_path, ignore_term=False):
    pidfile = tmp_path / "pids"
    code = (
        "import os, signal, subprocess, sys, time\n"
        + ("signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" if ignore_term else "")
        + "child = subprocess.Popen(['sleep', '300'])\n"
        f"open({str(pidfile)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(300)\n"
    )
    return [PY, "-c", code], pidfile


def test_timeout_kills_the_whole_group(tmp_path):
    argv, pidfile = _sleeper_with_grandchild(tmp_path)
    res = runner.run_command(argv, ENV, timeout=1.0)
    assert res.timed_out and res.duration < 10
    pids = [int(p) for p in pidfile.read_text().split()]
    time.sleep(0.2)
    assert [p for p in pids if alive(p)] == []


def test_term_then_kill(tmp_path):
    argv, pidfile = _sleeper_with_grandchild(tmp_path, ignore_term=True)
    t0 = time.monotonic()
    res = runner.run_command(argv, ENV, timeout=0.5)
    assert res.timed_out and res.signal == 9
    assert time.monotonic() - t0 >= runner.TERM_GRACE  # it waited for TERM, then killed
    pids = [int(p) for p in pidfile.read_text().split()]
    time.sleep(0.2)
    assert [p for p in pids if alive(p)] == []


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
    for _ in range(100):
        if pidfile.exists() and pidfile.read_text():
            break
        time.sleep(0.05)
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
    for _ in range(100):
        if pidfile.exists() and pidfile.read_text():
            break
        time.sleep(0.05)
    assert (len(mine), len(other)) == (1, 0)
    assert other.terminate_all() == 0
    assert mine.terminate_all() == 1
    thread.join(10)
