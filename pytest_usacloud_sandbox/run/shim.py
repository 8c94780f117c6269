"""The ``usacloud`` a shell-mode script finds first: a thin client of its item's broker.

Started for every usacloud call the script makes, as ``python -I -S .../shim.py ARGS`` by a tiny
launcher in a run-private bin directory (see :mod:`pytest_usacloud_sandbox.shell`). It imports only
the standard library and :mod:`runner` (about 0.15 s, against over a second for the plugin's whole
engine), because the decisions are taken by the broker in the pytest worker (:mod:`broker`):

1. it connects to the broker's Unix socket (``USACLOUD_SANDBOX_SOCKET``) and sends its words, the
   script line that called it (``USACLOUD_SANDBOX_LINE``, kept up to date by the prologue's DEBUG
   trap) and the credential values of its own environment (for masking);
2. the broker applies the policy and the offline check and takes a token, then either answers
   ``exit`` (refused, invalid, cancelled, ...) or ``run``: the real usacloud's absolute path (never
   looked up on PATH, so the shim never finds itself) and the pinned environment variables;
3. the shim runs it in its own process group, stdin inherited, stdout and stderr forwarded as they
   come (so ``$(usacloud ... -q)`` and pipes work) while a bounded tail is kept, with the timeout,
   the stop signal and SIGTERM/SIGINT/SIGHUP all ending the whole group; it sends the result back
   and the broker classifies it (and may ask for a 429 retry);
4. it exits with usacloud's exit code. Exit codes of its own: 1 refused, invalid, rate limiter
   unavailable or no broker; 124 timed out; 127 usacloud could not be started; 143 cancelled;
   128+N when a signal N ended usacloud.

Nothing ever runs unsandboxed: without a reachable broker the shim refuses.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

if __package__ in (None, ""):  # run as a file by the launcher (python -I -S .../shim.py)
    sys.path[:0] = [str(Path(__file__).resolve().parents[2])]

from pytest_usacloud_sandbox.run import runner  # stdlib only, like mask
from pytest_usacloud_sandbox.state.children import TERM_GRACE, Children
from pytest_usacloud_sandbox.usacloud.mask import SECRET_ENV

SOCKET_ENV = "USACLOUD_SANDBOX_SOCKET"
LINE_ENV = "USACLOUD_SANDBOX_LINE"
ENV_PREFIX = "USACLOUD_SANDBOX_"
PREFIX = "usacloud (pytest-usacloud-sandbox): "
EXIT_REFUSED, EXIT_TIMEOUT, EXIT_NOT_STARTED, EXIT_CANCELLED = 1, 124, 127, 143
_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Channel:
    """Newline-delimited JSON messages over a stream socket (used by the shim and the broker)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = b""

    def send(self, message: dict) -> None:
        self.sock.settimeout(None)
        self.sock.sendall(json.dumps(message).encode() + b"\n")

    def recv(self, timeout: float | None = None):
        """The next message; None at EOF; TimeoutError when ``timeout`` passes first."""
        while b"\n" not in self._buf:
            self.sock.settimeout(timeout)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise  # (an OSError too: not an EOF)
            except OSError:
                return None
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)


_terminated: list[int] = []  # signals received (the handler only records them; the loops act)


def _on_signal(signum, frame) -> None:
    _terminated.append(signum)


def main(args: list[str]) -> int:
    for sig in _SIGNALS:
        signal.signal(sig, _on_signal)
    path = os.environ.get(SOCKET_ENV, "")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"{PREFIX}no sandbox broker at {path or '(unset)'} ({exc}); usacloud was not run\n")
        return EXIT_REFUSED
    channel = Channel(sock)
    line = os.environ.get(LINE_ENV, "0")
    secrets = [os.environ[name] for name in SECRET_ENV if os.environ.get(name)]
    channel.send({"words": ["usacloud", *args], "line": int(line) if line.isdigit() else 0, "secrets": secrets})
    while True:
        try:
            message = channel.recv(timeout=runner.POLL * 2)
        except TimeoutError:
            if _terminated:
                return 128 + _terminated[0]
            continue
        if message is None:
            sys.stderr.write(f"{PREFIX}the sandbox broker went away; the call was cancelled\n")
            return EXIT_CANCELLED
        if message.get("action") != "run":
            if message.get("message"):
                sys.stderr.write(f"{PREFIX}{message['message']}\n")
            return int(message.get("exit", EXIT_REFUSED))
        result = run_tee(message, channel)
        try:
            channel.send({"result": result})
        except OSError:
            return EXIT_CANCELLED
        if _terminated:
            return 128 + _terminated[0]


def run_tee(order: dict, channel: Channel | None = None) -> dict:
    """Run ``order["argv"]`` like runner.run_command, but forward its output to our stdout/stderr.

    ``order``: argv, env (pinned variables laid over our own environment), timeout, stop (path of
    the stop signal) and registry (directory where running process groups are recorded).
    Returns the fields of a runner.RunResult.
    """
    argv = [str(a) for a in order["argv"]]
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env.update(order.get("env") or {})
    started, t0 = time.time(), time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    except OSError as exc:
        return _result(argv, started, t0, launch_error=f"{exc.strerror or exc}: {argv[0]}")
    children = Children(Path(order["registry"])) if order.get("registry") else None
    tails = {proc.stdout: runner._Tail(runner.TAIL_BYTES), proc.stderr: runner._Tail(runner.TAIL_BYTES)}
    try:
        if children is not None:
            children.add(proc)
        timed_out = cancelled = False
        try:
            if channel is not None:
                channel.send({"started": proc.pid})
        except OSError:
            cancelled = True  # the broker is gone: never run unobserved
        if not cancelled:
            outs = {proc.stdout: 1, proc.stderr: 2}
            watch = channel.sock if channel is not None else None
            timed_out, cancelled = _pump(proc, tails, outs, watch, t0, float(order["timeout"]), order.get("stop"))
    finally:
        runner.release(proc, tails, children)  # nothing of usacloud's group outlives the call
    return asdict(runner.finished(argv, started, t0, proc, tails, timed_out=timed_out, cancelled=cancelled))


def _pump(proc, tails, outs, watch, t0, timeout, stop_path) -> tuple[bool, bool]:
    """Copy both pipes to our stdout/stderr until EOF, watching the timeout, the stop signal and the broker."""
    sel = selectors.DefaultSelector()
    for stream in tails:
        os.set_blocking(stream.fileno(), False)
        sel.register(stream, selectors.EVENT_READ)
    if watch is not None:
        sel.register(watch, selectors.EVENT_READ)  # the broker says nothing during a run: readable = gone
    exited_at = None
    try:
        while len(sel.get_map()) > (watch is not None):
            for key, _ in sel.select(runner.POLL):
                if key.fileobj is watch:
                    runner.terminate(proc, grace=1.0)
                    return False, True
                chunk = os.read(key.fileobj.fileno(), 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                tails[key.fileobj].add(chunk)
                _forward(outs, key.fileobj, chunk)
            if proc.poll() is not None:
                exited_at = exited_at or time.monotonic()
                if time.monotonic() - exited_at > runner.DRAIN_GRACE:
                    break  # a grandchild keeps the pipe open; the group is killed by the caller
                continue
            if time.monotonic() - t0 > timeout:
                runner.terminate(proc)
                return True, False
            if _terminated or (stop_path and os.path.exists(stop_path)):
                runner.terminate(proc, grace=1.0 if _terminated else TERM_GRACE)
                return False, True
    finally:
        sel.close()
    proc.wait()
    return False, False


def _forward(outs: dict, stream, chunk: bytes) -> None:
    fd = outs.get(stream)
    if fd is None:
        return
    try:
        while chunk:
            chunk = chunk[os.write(fd, chunk) :]
    except BlockingIOError:
        pass  # a reader that never reads (our fds are blocking; kept for safety)
    except OSError:
        outs[stream] = None  # the reader went away (`usacloud ... | head -1`): keep draining, stop copying


def _result(argv, started, t0, **fields) -> dict:
    result = runner.RunResult(
        argv=tuple(argv),
        exit_code=fields.pop("exit_code", None),
        signal=fields.pop("signal", None),
        stdout=fields.pop("stdout", ""),
        stderr=fields.pop("stderr", ""),
        truncated=fields.pop("truncated", False),
        started=started,
        ended=time.time(),
        duration=time.monotonic() - t0,
        **fields,
    )
    return asdict(result)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
