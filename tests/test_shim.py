"""Shell mode's pieces: the shim's channel and tee runner, the broker, and how a script is judged."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from standin_tools import pids_alive

from pytest_usacloud_sandbox.run import shim
from pytest_usacloud_sandbox.run.broker import Broker, exit_of
from pytest_usacloud_sandbox.run.execute import Engine
from pytest_usacloud_sandbox.run.shell import SCRIPT_EXIT, judge
from pytest_usacloud_sandbox.settings import Settings
from pytest_usacloud_sandbox.state import records as rec
from pytest_usacloud_sandbox.state.stop import StopReason, StopSignal
from pytest_usacloud_sandbox.usacloud.mask import Masker
from pytest_usacloud_sandbox.usacloud.policy import sandbox_env
from pytest_usacloud_sandbox.usacloud.result import RunResult

SHIM = Path(shim.__file__)


def test_channel_messages_timeout_and_eof():
    a, b = socket.socketpair()
    left, right = shim.Channel(a), shim.Channel(b)
    left.send({"n": 1})
    left.send({"n": 2, "text": "x\ny"})
    assert right.recv() == {"n": 1}
    assert right.recv() == {"n": 2, "text": "x\ny"}
    with pytest.raises(TimeoutError):
        right.recv(timeout=0.05)
    a.close()
    assert right.recv() is None


def test_run_tee_forwards_output_and_keeps_tails(capfd):
    result = shim.run_tee({"argv": ["sh", "-c", "echo out; echo err >&2; exit 3"], "timeout": 10})
    assert (result["exit_code"], result["stdout"], result["stderr"]) == (3, "out\n", "err\n")
    captured = capfd.readouterr()
    assert captured.out == "out\n" and captured.err == "err\n"


def test_run_tee_lays_the_pins_over_its_environment(capfd, monkeypatch):
    monkeypatch.setenv("SAKURACLOUD_ZONE", "is1a")
    monkeypatch.setenv("USACLOUD_SANDBOX_LINE", "7")
    order = {
        "argv": ["sh", "-c", 'echo "$SAKURACLOUD_ZONE ${USACLOUD_SANDBOX_LINE-unset}"'],
        "timeout": 10,
        "env": sandbox_env({}),
    }
    assert shim.run_tee(order)["stdout"] == "tk1v unset\n"


def test_run_tee_timeout_ends_the_whole_group(tmp_path):
    pidfile = tmp_path / "pid"
    started = time.monotonic()
    result = shim.run_tee({"argv": ["sh", "-c", f"sleep 30 & echo $! > {pidfile}; wait"], "timeout": 0.5})
    assert result["timed_out"] and time.monotonic() - started < 10
    assert pids_alive([int(pidfile.read_text())]) == []


def test_run_tee_honours_the_stop_signal_and_registers_the_group(tmp_path):
    stop, registry = tmp_path / "stop", tmp_path / "children"
    registry.mkdir()
    order = {
        "argv": ["sh", "-c", f"touch {stop}; sleep 30"],
        "timeout": 60,
        "stop": str(stop),
        "registry": str(registry),
    }
    result = shim.run_tee(order)
    assert result["cancelled"] and result["exit_code"] == -15
    assert list(registry.iterdir()) == []  # unregistered once the group is gone


def test_run_tee_cannot_start():
    result = shim.run_tee({"argv": ["/nonexistent/usacloud"], "timeout": 5})
    assert result["exit_code"] is None and "/nonexistent/usacloud" in result["launch_error"]


@pytest.mark.parametrize("when", ["before", "during"])
def test_run_tee_stops_when_the_broker_goes_away(tmp_path, when):
    a, b = socket.socketpair()
    pidfile = tmp_path / "pid"
    if when == "before":
        b.close()  # the shim cannot even report the start: usacloud is ended at once
    else:
        threading.Timer(1.0, b.close).start()
    started = time.monotonic()
    result = shim.run_tee({"argv": ["sh", "-c", f"echo $$ > {pidfile}; sleep 30"], "timeout": 60}, shim.Channel(a))
    assert result["cancelled"] and time.monotonic() - started < 10
    written = pidfile.read_text().strip() if pidfile.exists() else ""  # sh may be killed mid-echo
    if written:
        assert pids_alive([int(written)]) == []
    assert when == "before" or written


def test_the_shim_refuses_without_a_broker(tmp_path):
    marker = tmp_path / "ran"
    env = {k: v for k, v in os.environ.items() if not k.startswith("USACLOUD_SANDBOX_")}
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(SHIM), "zone", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 1
    assert "no sandbox broker" in proc.stderr and not marker.exists()


@pytest.fixture
def fake_usacloud(tmp_path):
    """A usacloud that logs its argv and zone, prints an ID, and fails for `server read nope`."""
    log = tmp_path / "calls.log"
    path = tmp_path / "usacloud"
    path.write_text(
        "#!/bin/sh\n"
        f'echo "$* zone=$SAKURACLOUD_ZONE" >> {log}\n'
        'if [ "$1 $2 $3" = "server read nope" ]; then echo "target resource not found" >&2; exit 1; fi\n'
        "echo 113000000001\n"
    )
    path.chmod(0o755)
    return path, log


def broker_call(tmp_path, fake, *args, stop=None):
    """One call through a real broker and the shim as a subprocess: (exit code, stdout, stderr, broker)."""
    settings = Settings(timeout=10.0, rate=float("inf"))
    stop_signal = StopSignal(tmp_path / "stop")
    if stop:
        stop_signal.trigger(StopReason("x::y", "not-found", "boom"))
    engine = Engine(
        settings=settings, usacloud_bin=str(fake), stop=stop_signal, base_env=dict(os.environ), run_dir=tmp_path
    )
    sock = str(tmp_path / "b.sock")
    broker = Broker(engine, Masker(), sandbox_env({}), sock, lambda line: None, tmp_path / "children").start()
    env = dict(os.environ, USACLOUD_SANDBOX_SOCKET=sock, USACLOUD_SANDBOX_LINE="12", SAKURACLOUD_ZONE="is1a")
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-S", str(SHIM), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        broker.close()
    return proc.returncode, proc.stdout, proc.stderr, broker


def test_a_call_through_the_broker(tmp_path, fake_usacloud):
    fake, log = fake_usacloud
    code, out, _, broker = broker_call(tmp_path, fake, "switch", "create", "-y", "--name", "x", "--zone", "is1a", "-q")
    assert (code, out) == (0, "113000000001\n")
    assert log.read_text() == "switch create -y --name x --zone tk1v -q zone=tk1v\n"
    [call] = broker.calls
    assert (call.line, call.status, call.cls, call.zone_rewritten) == (12, rec.RAN, "ok", True)
    assert call.text == "usacloud switch create -y --name x --zone is1a -q"
    assert broker.exits == [0] and engine_stats(broker)["attempts"] == 1


def engine_stats(broker):
    return vars(broker.engine.stats)


def test_failures_refusals_and_cancels_through_the_broker(tmp_path, fake_usacloud):
    fake, log = fake_usacloud
    code, _, err, broker = broker_call(tmp_path, fake, "server", "read", "nope")
    assert code == 1 and "target resource not found" in err
    assert (broker.calls[0].status, broker.calls[0].cls) == (rec.FAILED, "not-found")
    code, _, err, broker = broker_call(tmp_path, fake, "server", "delete", "-y", "web")
    assert code == shim.EXIT_REFUSED and "refused by the sandbox policy (dangerous)" in err
    assert broker.calls[0].status == rec.REFUSED
    code, _, err, broker = broker_call(tmp_path, fake, "server", "lsit")
    assert (
        code == shim.EXIT_REFUSED and "is not a subcommand of `server`" in err and broker.calls[0].status == rec.INVALID
    )
    code, _, err, broker = broker_call(tmp_path, fake, "zone", "list", stop=True)
    assert code == shim.EXIT_CANCELLED and broker.calls[0].status == rec.CANCELLED
    assert (
        "server read nope" in log.read_text() and "delete" not in log.read_text() and "zone list" not in log.read_text()
    )


def result(**fields):
    base = {
        "argv": ("usacloud",),
        "exit_code": 0,
        "signal": None,
        "stdout": "",
        "stderr": "",
        "truncated": False,
        "started": 0.0,
        "ended": 1.0,
        "duration": 1.0,
    }
    base.update(fields)
    return RunResult(**base)


def test_exit_codes_of_the_shim():
    ok = rec.CommandRecord(line=1, text="", status=rec.RAN, cls="ok")
    assert exit_of(ok, result(exit_code=0)) == (0, None)
    assert exit_of(rec.CommandRecord(1, "", status=rec.FAILED, cls="not-found"), result(exit_code=2)) == (2, None)
    assert (
        exit_of(rec.CommandRecord(1, "", status=rec.FAILED, cls="crashed"), result(exit_code=-11, signal=11))[0] == 139
    )
    assert exit_of(rec.CommandRecord(1, "", status=rec.FAILED, cls="timeout", message="t"), result(timed_out=True)) == (
        124,
        "t",
    )
    assert (
        exit_of(
            rec.CommandRecord(1, "", status=rec.FAILED, cls="missing-binary", message="m"),
            result(exit_code=None, launch_error="m"),
        )[0]
        == 127
    )
    assert exit_of(rec.CommandRecord(1, "", status=rec.REFUSED, message="no"), None) == (1, "no")
    assert exit_of(rec.CommandRecord(1, "", status=rec.CANCELLED), None)[0] == 143
    assert exit_of(rec.CommandRecord(1, "", status=rec.FAILED, cls="limiter-unavailable", message="l"), None) == (
        1,
        "l",
    )


def script(*calls):
    record = rec.ScriptRecord(path="/s/x.usacloud", nodeid="x.usacloud::x", mode="shell")
    record.commands = list(calls)
    return record


def call(line, status=rec.RAN, cls="ok", message=""):
    return rec.CommandRecord(line=line, text="usacloud x", status=status, cls=cls, message=message)


def test_judge_a_clean_run_passes():
    record = script(call(2), call(3))
    judge(record, result(exit_code=0), [0, 0], False, 1800, Path("/s/x.usacloud"))
    assert record.status == "passed" and record.cls is None


def test_judge_a_failure_the_script_went_past():
    record = script(call(2), call(3, rec.FAILED, "not-found", "gone"), call(4))
    judge(record, result(exit_code=0), [0, 1, 0], False, 1800, Path("/s/x.usacloud"))
    assert (record.status, record.cls, record.line) == ("failed", "not-found", 3)
    assert record.message == "a usacloud call failed and the script went on: gone"


def test_judge_set_e_stopping_at_the_failing_call():
    record = script(call(2), call(5, rec.FAILED, "auth", "401"))
    judge(record, result(exit_code=1), [0, 1], False, 1800, Path("/s/x.usacloud"))
    assert (record.cls, record.line) == ("auth", 5)
    assert record.message == "401 (the script stopped there: bash exited 1)"


def test_judge_bash_failing_on_its_own():
    stderr = "/s/x.usacloud: line 7: jq: command not found\n"
    record = script(call(2, rec.FAILED, "not-found", "gone"), call(3))
    judge(record, result(exit_code=127, stderr=stderr), [1, 0], False, 1800, Path("/s/x.usacloud"))
    assert (record.cls, record.line) == (SCRIPT_EXIT, 7)
    assert record.message == (
        "bash exited with status 127: jq: command not found; a usacloud call had failed before, on line 2 (not-found)"
    )


def test_judge_timeout_and_cancel():
    record = script(call(2), call(4, rec.CANCELLED, "cancelled"))
    judge(record, result(exit_code=-15, timed_out=True), [0, 143], False, 30, Path("/s/x.usacloud"))
    assert (record.cls, record.line) == ("timeout", 4) and "--usacloud-script-timeout (30s)" in record.message
    record = script(call(2), call(4, rec.CANCELLED, "cancelled"))
    judge(record, result(exit_code=143), [0, 143], True, 30, Path("/s/x.usacloud"))
    assert record.status == "cancelled"
    record = script(call(2))
    judge(record, result(exit_code=-15, cancelled=True), [0], True, 30, Path("/s/x.usacloud"))
    assert record.status == "cancelled"
