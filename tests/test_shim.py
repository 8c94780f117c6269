"""Shell mode's pieces: the wire (protocol), the broker running calls with the caller's files, the
Python shim fallback, and how a script is judged."""

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from standin_tools import pids_alive, unread_bytes, wait_gone, wait_until

from pytest_usacloud_sandbox.record.command import CommandRecord
from pytest_usacloud_sandbox.record.script import ScriptRecord
from pytest_usacloud_sandbox.record.vocabulary import CommandStatus, ResultClass
from pytest_usacloud_sandbox.run import protocol, shim
from pytest_usacloud_sandbox.run.broker import LEFT_RUNNING, VANISHED, Broker, exit_of
from pytest_usacloud_sandbox.run.execute import Engine
from pytest_usacloud_sandbox.run.shell import judge, write_client_files
from pytest_usacloud_sandbox.settings import Settings
from pytest_usacloud_sandbox.state.stop import StopReason, StopSignal
from pytest_usacloud_sandbox.usacloud.mask import Masker
from pytest_usacloud_sandbox.usacloud.policy import sandbox_env
from pytest_usacloud_sandbox.usacloud.result import RunResult

SHIM = Path(shim.__file__)
BASH = shutil.which("bash")
TOKEN, SECRET = "tok-4f1c9a0b77e2", "sec-0d93bb1a6c55"


# -- the wire -------------------------------------------------------------------------------------


TRICKY = {
    "PLAIN": "value",
    "EMPTY": "",
    "QUOTES": "a \"double\" and 'single'",
    "SHELLY": "$HOME `date` \\ back\\slash ${x}",
    "LINES": "one\ntwo\n",
    "CONTROL": "bell\a tab\t esc\x1b del\x7f",
    "UNICODE": "サクラ ☁",
}


@pytest.mark.parametrize("posix", [False, True])
def test_parse_export_reads_what_bash_exports(posix):
    script = "set -o posix\n" if posix else ""
    script += "declare -ax ARR=(1 2)\nexport NOVALUE\nexport -p\n"
    env = dict(TRICKY, PATH=os.environ["PATH"])
    out = subprocess.run([BASH, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    parsed = protocol.parse_export(out)
    assert {k: parsed.get(k) for k in TRICKY} == TRICKY
    assert "ARR" not in parsed and "NOVALUE" not in parsed


def test_read_request_in_pieces_with_descriptors(tmp_path):
    a, b = socket.socketpair(socket.AF_UNIX)
    words = ["server", "list", "--name", "a\nb", ""] + [f"w{i}" for i in range(7)]  # 12 words: ARGC has two digits
    cookie = "c" * 32
    data = shim.request(words, {"X": "1", "USACLOUD_SANDBOX_LINE": "7"}, [1], cookie)
    cut = data.index(b"\0", data.index(b"\0", len(cookie) + 6) + 1) + 3  # inside ARGC's field
    target = tmp_path / "f"
    seen = []

    def send_in_pieces(fh):
        socket.send_fds(a, [data[:9]], [fh.fileno()])  # the header is cut inside the cookie
        for piece in (data[9:cut], data[cut:]):  # each once the reader took all of the last one
            wait_until(lambda: unread_bytes(b.fileno()) == 0, 30, "the reader taking the piece sent")
            a.sendall(piece)

    b.settimeout(60)  # as the broker does: a sender that failed cannot hang the test
    with open(target, "w") as fh:
        sender = threading.Thread(target=send_in_pieces, args=(fh,))
        sender.start()
        try:
            request = protocol.read_request(b, True, lambda *fields: seen.append(fields) or 4242)
        finally:
            sender.join(30)
    assert seen == [("shim", cookie, os.getpid())]  # checked first: the caller's pid is the kernel's
    assert (request.kind, request.token, request.pid, request.line, request.words) == ("shim", cookie, 4242, 7, words)
    assert request.env == {"X": "1", "USACLOUD_SANDBOX_LINE": "7"}
    assert request.fds[0] is None and request.fds[2] is None
    fd = request.fds[1]
    os.write(fd, b"via the passed descriptor\n")
    os.close(fd)
    assert target.read_text() == "via the passed descriptor\n"


def test_read_request_rejects_a_client_that_stops_early():
    a, b = socket.socketpair(socket.AF_UNIX)
    a.sendall(b"fn\0cookie\0")
    a.close()
    with pytest.raises(protocol.BadRequest):
        protocol.read_request(b, False, lambda *fields: 1)


def test_a_stranger_is_turned_away_after_a_few_bytes_and_its_descriptors_closed(tmp_path):
    """The cookie is checked before the request is read: a stranger cannot make the broker read
    (and parse) megabytes."""
    a, b = socket.socketpair(socket.AF_UNIX)
    a.setblocking(False)
    big = shim.request(["x" * 1000] * 900, {}, [0], "0" * 32)  # about 900 KB
    with open(tmp_path / "f", "w") as fh:
        sent = socket.send_fds(a, [big[:65536]], [fh.fileno()])

    def refuse(kind, token, pid):
        raise protocol.Stranger("not the script's client")

    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(protocol.Stranger):
        protocol.read_request(b, True, refuse)
    assert set(os.listdir("/proc/self/fd")) <= before  # the passed descriptor was closed
    left = b""
    b.setblocking(False)
    try:
        while chunk := b.recv(65536):
            left += chunk
    except BlockingIOError:
        pass
    assert sent - len(left) <= protocol.AUTH_BYTES  # read no more than the first fields before the check
    # nor does the header get longer than that: a client that never finishes its cookie is turned away
    c, d = socket.socketpair(socket.AF_UNIX)
    c.sendall(b"fn\0" + b"x" * 10_000)
    with pytest.raises(protocol.Stranger):
        protocol.read_request(d, False, lambda *fields: 1)


# -- a broker with a fake usacloud ----------------------------------------------------------------


@pytest.fixture
def fake_usacloud(tmp_path):
    """A usacloud that logs argv, zone, key, match mode and cwd, prints an ID, reads stdin on `note read`."""
    log = tmp_path / "calls.log"
    path = tmp_path / "usacloud"
    path.write_text(
        "#!/bin/sh\n"
        f'echo "$* zone=$SAKURACLOUD_ZONE key=${{SAKURACLOUD_ACCESS_TOKEN:-none}} '
        f'mode=${{SAKURACLOUD_ARGUMENT_MATCH_MODE:-none}} cwd=$PWD:$(pwd -P)" >> {log}\n'
        'if [ "$1 $2 $3" = "server read nope" ]; then echo "target resource not found" >&2; exit 1; fi\n'
        'case "$1 $2 $3" in "switch read /"*) echo $$ > "$3"; exec sleep 60;; esac\n'
        "echo 113000000001\n"
    )
    path.chmod(0o755)
    return path, log


class Harness:
    """A real broker in this process, and bash scripts that call it through the client function."""

    def __init__(self, tmp_path, fake, stop=False, timeout=10.0):
        self.tmp = tmp_path
        stop_signal = StopSignal(tmp_path / "stop")
        if stop:
            stop_signal.trigger(StopReason("x::y", "not-found", "boom"))
        base_env = dict(os.environ, SAKURACLOUD_ACCESS_TOKEN=TOKEN, SAKURACLOUD_ACCESS_TOKEN_SECRET=SECRET)
        self.engine = Engine(
            settings=Settings(timeout=timeout, rate=float("inf")),
            usacloud_bin=str(fake),
            stop=stop_signal,
            base_env=base_env,
            run_dir=tmp_path,
        )
        base = sandbox_env(base_env)
        self.given = {k: v for k, v in base.items() if not k.startswith("SAKURACLOUD_ACCESS")}
        work = tmp_path / "work"
        work.mkdir()
        self.broker = Broker(self.engine, Masker(), base, self.given, str(work / "b.sock"), lambda line: None)
        self.broker.start()
        self.prologue = write_client_files(work, BASH, self.broker)
        self.client = work / "client.bash"
        self.launcher = work / "bin" / "usacloud"

    def bash(self, script, **env):
        full = dict(self.given, USACLOUD_SANDBOX_LINE="12", **env)
        return subprocess.run(
            [BASH, "-c", f". {self.client}\n{script}"], env=full, capture_output=True, text=True, timeout=60
        )

    def close(self):
        return self.broker.close()


@pytest.fixture
def harness(tmp_path, fake_usacloud):
    made = []

    def make(**kwargs):
        where = tmp_path / f"h{len(made)}"
        where.mkdir()
        made.append(Harness(where, fake_usacloud[0], **kwargs))
        return made[-1]

    yield make
    for h in made:
        h.close()


@pytest.fixture
def h(tmp_path, fake_usacloud):
    made = Harness(tmp_path, fake_usacloud[0])
    yield made
    made.close()


def test_a_call_through_the_function_runs_with_the_callers_files(h, fake_usacloud, tmp_path):
    _, log = fake_usacloud
    out = tmp_path / "out.txt"
    sub = tmp_path / "sub"
    sub.mkdir()
    proc = h.bash(
        f"{{ echo before; usacloud switch create -y --name x --zone is1a -q; echo after; }} > {out}\n"
        f'ID=$(usacloud switch read x)\necho "captured $ID"\ncd {sub} && usacloud zone list > /dev/null\n'
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "before\n113000000001\nafter\n"  # one open file, offsets shared
    assert proc.stdout == "captured 113000000001\n"
    lines = log.read_text().splitlines()
    assert lines[0].startswith(f"switch create -y --name x --zone tk1v -q zone=tk1v key={TOKEN} ")
    assert lines[2].endswith(f":{sub}")  # usacloud ran in the caller's directory
    calls = h.close()
    assert [(c.line, c.status, c.zone_rewritten) for c in calls] == [(12, CommandStatus.OK, True)] + [
        (12, CommandStatus.OK, False)
    ] * 2
    assert calls[0].text == "usacloud switch create -y --name x --zone is1a -q"


def tcp_client(path):
    """A client of the function's protocol: PORT COOKIE DUMP [PID] (its own pid unless given); it asks
    for `zone list` and writes what the broker answers to DUMP."""
    path.write_text(
        "import os, socket, sys\n"
        "port, cookie, dump = int(sys.argv[1]), sys.argv[2], sys.argv[3]\n"
        "pid = sys.argv[4] if len(sys.argv) > 4 else str(os.getpid())\n"
        "s = socket.create_connection(('127.0.0.1', port))\n"
        "fields = ['fn', cookie, pid, '3', '', '2', 'zone', 'list', 'declare -x A=\"1\"\\n']\n"
        "s.sendall(b''.join(f.encode() + b'\\0' for f in fields))\n"
        "got = b''\n"
        "while chunk := s.recv(65536):\n"
        "    got += chunk\n"
        "open(dump, 'wb').write(got)\n"
    )
    return path


def test_nothing_but_the_exit_status_crosses_the_socket(h, fake_usacloud, tmp_path):
    """A client of our own (a child process, as any script process would be) sees only the status."""
    _, log = fake_usacloud
    client = tcp_client(tmp_path / "client.py")
    dump = tmp_path / "dump"
    out = subprocess.run(
        [sys.executable, str(client), str(h.broker.port), h.broker.cookie, str(dump)],
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert dump.read_bytes() == b"0\n"
    assert out.stdout == b"113000000001\n"  # usacloud wrote to the client's own stdout
    assert f"key={TOKEN}" in log.read_text()  # the call did carry the key: in usacloud's environment only
    # a stranger without the script's cookie gets nothing at all, and nothing runs
    stranger = subprocess.run(
        [sys.executable, str(client), str(h.broker.port), "0" * 32, str(dump)], capture_output=True, timeout=60
    )
    assert dump.read_bytes() == b"" and stranger.stdout == b""
    assert len(log.read_text().splitlines()) == 1


def test_a_client_claiming_another_process_of_the_script_gets_nothing(h, fake_usacloud, tmp_path):
    """Over TCP the declared pid must be the process holding the connection (the kernel's socket
    tables say which): another process of the run, even with the cookie, cannot act for it."""
    _, log = fake_usacloud
    victim = subprocess.Popen(["sleep", "60"], stdin=subprocess.DEVNULL)  # a process of the run too
    client = tcp_client(tmp_path / "spoof.py")
    dump = tmp_path / "dump"
    try:
        argv = [sys.executable, str(client), str(h.broker.port), h.broker.cookie, str(dump), str(victim.pid)]
        subprocess.run(argv, capture_output=True, timeout=60, check=True)
    finally:
        victim.kill()
        victim.wait()
    assert dump.read_bytes() == b""
    assert not log.exists() or log.read_text() == ""
    assert h.close() == []


def test_the_client_files_are_the_users_own(h):
    """The cookie is in the client file: readable by the user only, in a directory only it may enter."""
    assert stat.S_IMODE(h.client.stat().st_mode) == 0o600
    assert stat.S_IMODE(h.prologue.stat().st_mode) == 0o600
    assert stat.S_IMODE(h.launcher.stat().st_mode) == 0o700
    assert stat.S_IMODE(h.launcher.parent.stat().st_mode) == 0o700


def test_variables_that_steer_usacloud_refuse_the_call(h, fake_usacloud):
    _, log = fake_usacloud
    for assignment in (
        "SAKURACLOUD_ZONE=is1a",
        "SAKURA_ZONES=is1a",
        "SAKURACLOUD_API_ROOT_URL=https://attacker.example/",
        "SAKURACLOUD_PROFILE=prod",
        "USACLOUD_PROFILE_DIR=/tmp",
        "HTTPS_PROXY=http://proxy:3128",
        "hTTps_proxy=http://proxy:3128",
        "SSL_CERT_FILE=/tmp/ca.pem",
        "SAKURACLOUD_FAKE_MODE=1",
        "SAKURACLOUD_TRACE=1",
        "SAKURACLOUD_ACCESS_TOKEN=mine",
    ):
        name = assignment.split("=")[0]
        proc = h.bash(f"export {assignment}\nusacloud zone list")
        assert proc.returncode == shim.EXIT_REFUSED, (assignment, proc.stderr)
        assert f"usacloud (pytest-usacloud-sandbox): the script sets {name}:" in proc.stderr
    assert not log.exists()  # none of them ran
    # harmless settings pass; the run's own zone pin is laid over everything
    proc = h.bash("SAKURACLOUD_ARGUMENT_MATCH_MODE=exact SAKURACLOUD_ZONE=tk1v usacloud server read web")
    assert proc.returncode == 0, proc.stderr
    assert f"server read web zone=tk1v key={TOKEN} mode=exact" in log.read_text()
    calls = h.close()
    assert [c.status for c in calls] == [CommandStatus.REFUSED] * 11 + [CommandStatus.OK]
    assert "mine" not in json.dumps([c.message for c in calls])


def test_the_path_launcher_and_env_reach_the_same_broker(h, fake_usacloud):
    _, log = fake_usacloud
    proc = h.bash(
        f"export PATH={h.launcher.parent}:$PATH\n"
        "command usacloud zone list\n"
        "echo region | xargs usacloud server list --zone is1b -q\n"
        "env SAKURACLOUD_PROFILE=prod usacloud zone list || echo refused=$?\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "113000000001\n113000000001\nrefused=1\n"
    assert "the script sets SAKURACLOUD_PROFILE" in proc.stderr
    assert [line.split(" zone=")[0] for line in log.read_text().splitlines()] == [
        "zone list",
        "server list --zone tk1v -q region",
    ]


def test_without_pidfd_getfd_the_function_hands_over_to_the_python_shim(h, tmp_path):
    h.broker.fallback = True  # as where the kernel refuses pidfd_getfd
    out = tmp_path / "out"
    proc = h.bash(f'{{ echo a; usacloud zone list; echo b; }} > {out}\nusacloud server read nope || echo "rc=$?"')
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "a\n113000000001\nb\n" and proc.stdout == "rc=1\n"
    assert "target resource not found" in proc.stderr
    assert [c.cls for c in h.close()] == ["ok", "not-found"]


STRANGER = r"""
import json, os, socket, sys, time
path, cookie, dump = sys.argv[1:4]
parent = os.getpid()
if os.fork():  # the parent exits at once: the child is no longer a descendant of the worker
    os._exit(0)
while os.getppid() == parent:  # until then it still is one
    time.sleep(0.005)
os.setsid()
sock = socket.socket(socket.AF_UNIX)
sock.connect(path)
fields = ["shim", cookie, str(os.getpid()), "1", "0,1,2", "2", "zone", "list", json.dumps({})]
socket.send_fds(sock, [b"".join(f.encode() + b"\0" for f in fields)], [0, 1, 2])
sock.settimeout(30)
got = b""
try:
    while chunk := sock.recv(64):
        got += chunk
except OSError:
    pass
with open(dump + ".tmp", "wb") as fh:
    fh.write(b"ANSWER " + got)
os.rename(dump + ".tmp", dump)
"""


def test_the_unix_socket_serves_only_a_process_of_the_script_that_knows_its_cookie(h, fake_usacloud, tmp_path):
    """Another script's process (found the socket and the cookie: same user) gets nothing, nor does a
    process of the script without the cookie; the script's own shim is served."""
    _, log = fake_usacloud
    client, dump = tmp_path / "stranger.py", tmp_path / "dump"
    client.write_text(STRANGER)
    subprocess.run([sys.executable, str(client), h.broker.socket_path, h.broker.cookie, str(dump)], timeout=30)
    wait_until(dump.exists, what="the stranger's end")
    assert dump.read_bytes() == b"ANSWER "
    proc = h.bash(f"{sys.executable} -I -S {SHIM} {h.broker.socket_path} zone list")  # no cookie
    assert proc.returncode == shim.EXIT_CANCELLED and "went away" in proc.stderr
    assert not log.exists()
    h.broker.fallback = True  # the function hands its calls to the shim, with the cookie
    assert h.bash("usacloud zone list").returncode == 0
    assert [line.split(" zone=")[0] for line in log.read_text().splitlines()] == ["zone list"]
    assert [c.status for c in h.close()] == [CommandStatus.OK]


def test_the_shim_refuses_without_a_broker(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(SHIM), str(tmp_path / "none.sock"), "zone", "list"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 1 and "no sandbox broker" in proc.stderr


def test_failures_refusals_and_cancels(harness, fake_usacloud):
    _, log = fake_usacloud
    h = harness()
    proc = h.bash("usacloud server read nope")
    assert proc.returncode == 1 and "target resource not found" in proc.stderr
    proc = h.bash("usacloud server delete -y web")
    assert proc.returncode == shim.EXIT_REFUSED and "refused by the sandbox policy (dangerous)" in proc.stderr
    proc = h.bash("usacloud server lsit")
    assert proc.returncode == shim.EXIT_REFUSED and "is not a subcommand of `server`" in proc.stderr
    assert [c.status for c in h.close()] == [CommandStatus.FAILED, CommandStatus.REFUSED, CommandStatus.INVALID]
    stopped = harness(stop=True)
    proc = stopped.bash("usacloud zone list")
    assert proc.returncode == shim.EXIT_CANCELLED and stopped.close()[0].status == CommandStatus.CANCELLED
    assert "delete" not in log.read_text() and "zone list" not in log.read_text()


def test_a_call_over_its_timeout(harness, tmp_path):
    h = harness(timeout=1.5)  # the fake (sh) writes its pid within milliseconds: room for a loaded machine
    pidfile = tmp_path / "pid"
    started = time.monotonic()
    proc = h.bash(f"usacloud switch read {pidfile}")
    assert proc.returncode == shim.EXIT_TIMEOUT and time.monotonic() - started < 10
    assert pids_alive([int(pidfile.read_text())]) == []
    assert h.close()[0].cls == "timeout"


def test_a_caller_killed_mid_call_cancels_it(h, tmp_path):
    pidfile = tmp_path / "pid"
    caller = subprocess.Popen(
        [BASH, "-c", f". {h.client}\nusacloud switch read {pidfile}"], env=dict(h.given), start_new_session=True
    )
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 30, "the call's pid")
    os.killpg(caller.pid, signal.SIGKILL)
    caller.wait()
    assert wait_gone([int(pidfile.read_text())]) == []
    [call] = h.close()
    assert (call.status, call.message) == (CommandStatus.CANCELLED, VANISHED)


def test_busy_holds_while_a_call_is_served_until_the_linger_ends(h, tmp_path):
    assert not h.broker.busy()  # nothing reached it
    h.broker._linger_until = None
    h.broker.linger = 2.0
    pidfile = tmp_path / "pid"
    caller = subprocess.Popen(
        [BASH, "-c", f". {h.client}\nusacloud switch read {pidfile}"],
        env=dict(h.given, USACLOUD_SANDBOX_LINE="7"),
        start_new_session=True,
    )
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 30, "the call's pid")
    assert h.broker.busy()
    wait_until(lambda: not h.broker.busy(), 30, "the end of the linger")
    os.killpg(caller.pid, signal.SIGKILL)  # what the worker does to bash's group after the linger
    caller.wait()
    assert wait_gone([int(pidfile.read_text())]) == []
    [call] = h.close()
    assert (call.status, call.line) == (CommandStatus.CANCELLED, 7)
    assert call.message == LEFT_RUNNING.format(2.0)


def test_the_function_tells_where_bash_tests_its_status(h):
    script = (
        "trap 'echo ERR >&2' ERR\nset -E\nusacloud zone list\nif ! usacloud zone list; then :; fi\n"
        "usacloud zone list || :\nf() { usacloud zone list; }\nf && :\nset -e\nusacloud zone list\n"
        "export -f usacloud; bash -c 'if usacloud zone list; then :; fi'\n"
    )
    proc = h.bash(script)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr  # the probe fires no ERR trap
    h.close()
    assert h.broker.tested == [False, True, True, True, False, True]


def test_call_env_lays_the_pins_over_allowed_settings(h):
    env, refusal = h.broker.call_env(dict(h.given, SAKURACLOUD_DEFAULT_OUTPUT_TYPE="json", FOO="x"))
    assert refusal is None
    assert env["SAKURACLOUD_DEFAULT_OUTPUT_TYPE"] == "json" and "FOO" not in env
    assert (env["SAKURACLOUD_ZONE"], env["SAKURACLOUD_ACCESS_TOKEN"]) == ("tk1v", TOKEN)
    _, refusal = h.broker.call_env(dict(h.given, SAKURACLOUD_ZONE="is1a"))
    assert refusal.name == "SAKURACLOUD_ZONE"
    # the sandbox's own variables and what the script removed do not count
    given = {k: v for k, v in h.given.items() if k != "SAKURACLOUD_ZONES"}
    assert h.broker.call_env(dict(given, USACLOUD_SANDBOX_LINE="9"))[1] is None


# -- exit codes and judging -----------------------------------------------------------------------


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


def test_exit_codes_of_a_call():
    ok = CommandRecord(line=1, text="", status=CommandStatus.OK, cls="ok")
    assert exit_of(ok, result(exit_code=0)) == (0, None)
    assert exit_of(CommandRecord(1, "", status=CommandStatus.FAILED, cls="not-found"), result(exit_code=2)) == (2, None)
    assert (
        exit_of(CommandRecord(1, "", status=CommandStatus.FAILED, cls="crashed"), result(exit_code=-11, signal=11))[0]
        == 139
    )
    assert exit_of(
        CommandRecord(1, "", status=CommandStatus.FAILED, cls="timeout", message="t"), result(timed_out=True)
    ) == (
        124,
        "t",
    )
    assert (
        exit_of(
            CommandRecord(1, "", status=CommandStatus.FAILED, cls="missing-binary", message="m"),
            result(exit_code=None, launch_error="m"),
        )[0]
        == 127
    )
    assert exit_of(CommandRecord(1, "", status=CommandStatus.REFUSED, message="no"), None) == (1, "no")
    assert exit_of(CommandRecord(1, "", status=CommandStatus.CANCELLED), None)[0] == 143
    assert exit_of(CommandRecord(1, "", status=CommandStatus.FAILED, cls="limiter-unavailable", message="l"), None) == (
        1,
        "l",
    )


def script(*calls):
    record = ScriptRecord(path="/s/x.usacloud", nodeid="x.usacloud::x", mode="shell")
    record.commands = list(calls)
    return record


def call(line, status=CommandStatus.OK, cls="ok", message=""):
    return CommandRecord(line=line, text="usacloud x", status=status, cls=cls, message=message)


def test_judge_a_clean_run_passes():
    record = script(call(2), call(3))
    judge(record, result(exit_code=0), [0, 0], False, 1800, Path("/s/x.usacloud"))
    assert record.status == "passed" and record.cls is None


def test_judge_a_failure_the_script_went_past():
    record = script(call(2), call(3, CommandStatus.FAILED, "not-found", "gone"), call(4))
    judge(record, result(exit_code=0), [0, 1, 0], False, 1800, Path("/s/x.usacloud"))
    assert (record.status, record.cls, record.line) == ("failed", "not-found", 3)
    assert record.message == "a usacloud call failed and the script went on: gone"


def test_judge_set_e_stopping_at_the_failing_call():
    record = script(call(2), call(5, CommandStatus.FAILED, "auth", "401"))
    judge(record, result(exit_code=1), [0, 1], False, 1800, Path("/s/x.usacloud"))
    assert (record.cls, record.line) == ("auth", 5)
    assert record.message == "401 (the script stopped there: bash exited 1)"


def test_judge_bash_failing_on_its_own():
    stderr = "/s/x.usacloud: line 7: jq: command not found\n"
    record = script(call(2, CommandStatus.FAILED, "not-found", "gone"), call(3))
    judge(record, result(exit_code=127, stderr=stderr), [1, 0], False, 1800, Path("/s/x.usacloud"))
    assert (record.cls, record.line) == (ResultClass.SCRIPT_EXIT, 7)
    assert record.message == (
        "bash exited with status 127: jq: command not found; a usacloud call had failed before, on line 2 (not-found)"
    )


def test_judge_timeout_and_cancel():
    record = script(call(2), call(4, CommandStatus.CANCELLED, "cancelled"))
    judge(record, result(exit_code=-15, timed_out=True), [0, 143], False, 30, Path("/s/x.usacloud"))
    assert (record.cls, record.line) == ("timeout", 4) and "--usacloud-script-timeout (30s)" in record.message
    record = script(call(2), call(4, CommandStatus.CANCELLED, "cancelled"))
    judge(record, result(exit_code=143), [0, 143], True, 30, Path("/s/x.usacloud"))
    assert record.status == "cancelled"
    record = script(call(2))
    judge(record, result(exit_code=-15, cancelled=True), [0], True, 30, Path("/s/x.usacloud"))
    assert record.status == "cancelled"


def test_judge_a_call_the_script_cancelled_is_a_failure_unless_the_run_stopped():
    record = script(call(2), call(3, CommandStatus.CANCELLED, "cancelled", VANISHED), call(4))
    judge(record, result(exit_code=0), [0, 143, 0], False, 1800, Path("/s/x.usacloud"))
    assert (record.status, record.cls, record.line) == ("failed", "cancelled", 3)
    assert record.message == f"a usacloud call was cancelled and the script went on: {VANISHED}"
    record = script(call(2), call(3, CommandStatus.CANCELLED, "cancelled", VANISHED), call(4))
    judge(record, result(exit_code=0), [0, 143, 0], True, 1800, Path("/s/x.usacloud"))
    assert record.status == "cancelled"


def test_without_loopback_tcp_the_function_uses_the_unix_socket(h, tmp_path):
    client = Path(h.client)
    client.write_text(client.read_text().replace(f"/dev/tcp/127.0.0.1/{h.broker.port}", "/dev/tcp/127.0.0.1/0"))
    proc = h.bash('X=$(usacloud zone list)\necho "got $X"')
    assert (proc.returncode, proc.stdout) == (0, "got 113000000001\n"), proc.stderr
    assert [c.status for c in h.close()] == [CommandStatus.OK]
