"""Run one command: no shell, its own process group, /dev/null stdin, a timeout, bounded output.

Every child is registered with its process's :class:`~..state.children.Children` while it runs,
so that a stop, a timeout, Ctrl-C or SIGTERM can terminate its whole process group: no usacloud
process outlives the session.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence

from ..state.children import TERM_GRACE, Children, kill_group
from ..usacloud.result import RunResult

TAIL_BYTES = 64 * 1024
POLL = 0.05  # how often a running command checks its timeout and the stop signal
DRAIN_GRACE = 0.5  # how long to keep reading after the child exited (grandchildren may hold the pipes)


class _Tail:
    """Keeps the last ``limit`` bytes written to it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.buf = bytearray()
        self.dropped = False

    def add(self, chunk: bytes) -> None:
        self.buf += chunk
        excess = len(self.buf) - self.limit
        if excess > 0:
            del self.buf[:excess]
            self.dropped = True

    def text(self) -> str:
        return self.buf.decode("utf-8", errors="replace")


def run_command(
    argv: Sequence[str],
    env: Mapping[str, str],
    timeout: float,
    should_stop: Callable[[], object] | None = None,
    tail_bytes: int = TAIL_BYTES,
    cwd: str | None = None,
    children: Children | None = None,
) -> RunResult:
    """Run ``argv`` to its end, its timeout or the stop signal; ``children`` tracks it meanwhile."""
    started, t0 = time.time(), time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,  # own session and process group: we can kill the whole group
        )
    except OSError as exc:
        return RunResult(
            argv=tuple(argv),
            exit_code=None,
            signal=None,
            stdout="",
            stderr="",
            truncated=False,
            started=started,
            ended=time.time(),
            duration=time.monotonic() - t0,
            launch_error=f"{exc.strerror or exc}: {argv[0]}",
        )
    tails = {proc.stdout: _Tail(tail_bytes), proc.stderr: _Tail(tail_bytes)}
    timed_out = cancelled = False
    try:
        if children is not None:
            children.add(proc)
        timed_out, cancelled = _pump(proc, tails, t0, timeout, should_stop)
    finally:
        release(proc, tails, children)
    return finished(argv, started, t0, proc, tails, timed_out=timed_out, cancelled=cancelled)


def release(proc: subprocess.Popen, tails: dict, children: Children | None) -> None:
    """After a child: kill what is left of its group, forget it, close its pipes."""
    kill_group(proc.pid, signal.SIGKILL)  # leftovers of the group (grandchildren) never outlive the command
    proc.wait()
    if children is not None:
        children.discard(proc)
    for stream in tails:
        stream.close()


def finished(argv, started: float, t0: float, proc: subprocess.Popen, tails: dict, **flags) -> RunResult:
    code = proc.returncode
    out, err = tails[proc.stdout], tails[proc.stderr]
    return RunResult(
        argv=tuple(argv),
        exit_code=code,
        signal=-code if code is not None and code < 0 else None,
        stdout=out.text(),
        stderr=err.text(),
        truncated=out.dropped or err.dropped,
        started=started,
        ended=time.time(),
        duration=time.monotonic() - t0,
        pid=proc.pid,
        **flags,
    )


def _pump(proc, tails, t0, timeout, should_stop) -> tuple[bool, bool]:
    """Read both pipes until EOF while watching the timeout and the stop signal."""
    sel = selectors.DefaultSelector()
    for stream in tails:
        os.set_blocking(stream.fileno(), False)
        sel.register(stream, selectors.EVENT_READ)
    exited_at = None
    try:
        while sel.get_map():
            for key, _ in sel.select(POLL):
                chunk = os.read(key.fileobj.fileno(), 65536)
                if chunk:
                    tails[key.fileobj].add(chunk)
                else:
                    sel.unregister(key.fileobj)
            if proc.poll() is not None:
                exited_at = exited_at or time.monotonic()
                if time.monotonic() - exited_at > DRAIN_GRACE:
                    break  # a grandchild keeps the pipe open; the group is killed by the caller
                continue
            if time.monotonic() - t0 > timeout:
                terminate(proc)
                return True, False
            if should_stop is not None and should_stop():
                terminate(proc)
                return False, True
    finally:
        sel.close()
    proc.wait()
    return False, False


def terminate(proc: subprocess.Popen, grace: float = TERM_GRACE) -> None:
    """TERM the process group, then KILL it if it is still there after ``grace`` seconds."""
    kill_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid, signal.SIGKILL)
        proc.wait()
