"""Run one command: no shell, its own process group, a timeout, bounded output.

Every child is registered with its process's :class:`~..state.children.Children` while it runs, so a
stop, a timeout, Ctrl-C or SIGTERM terminates its whole group, and the process's watchdog
(:mod:`..state.guard`) kills it if the process dies, even by SIGKILL. Where there is no watchdog, and
for shell mode's bash, the child also gets the kernel's parent-death signal where Linux allows it.
"""

from __future__ import annotations

import functools
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from ..state.children import TERM_GRACE, Children, kill_group
from ..usacloud.result import RunResult

TAIL_BYTES = 64 * 1024
POLL = 0.05  # how often a running command checks its timeout and the stop signal
DRAIN_GRACE = 0.5  # how long to keep reading after the child exited (grandchildren may hold the pipes)
LINGER_GRACE = 2.0  # with ``busy``: how long its group's members may take to start what keeps it busy
CHUNK = 65536
PIPE_BUF = 4096  # a writable pipe takes a write this size whole
PR_SET_PDEATHSIG = 1


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


class Output:
    """One output pipe of a child: its kept tail, and the descriptor its bytes are copied to (or None)."""

    def __init__(self, pipe, limit: int, forward: int | None = None) -> None:
        self.pipe = pipe
        self.tail = _Tail(limit)
        self.forward = forward
        self.pending = b""  # read, not yet copied (the pipe is not read meanwhile: back-pressure)
        self.open = True

    def write_some(self, size: int = PIPE_BUF) -> None:
        """Copy some of what is pending. A reader that went away ends the copy, not the command."""
        try:
            written = os.write(self.forward, self.pending[:size])
            self.pending = self.pending[written:]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:  # `usacloud ... | head -1`: keep draining the child, stop copying
            self.forward, self.pending = None, b""

    def write_all(self) -> None:
        """For a file or /dev/null (which cannot be polled, and never make a writer wait for long)."""
        while self.pending and self.forward is not None:
            self.write_some(CHUNK)


class DeathSignal:
    """How a child is made to die with the thread that starts it (``PR_SET_PDEATHSIG``, SIGKILL).

    The kernel sends the signal when the *thread* that forked the child exits, not the process:
    every caller here waits for its child in the thread that started it, so the thread outlives it.

    The child asks for it itself, before it runs the command: through util-linux's ``setpriv
    --pdeathsig KILL --`` (about 3 ms), or else a ``preexec_fn`` calling ``prctl`` (correct, but
    it costs subprocess its fast ``vfork`` path: 7 to 20 ms a child in a large process). Without
    either (not Linux), nothing: the children registry and the controller's sweep still apply.
    """

    def __init__(self, setpriv: str | None, prctl) -> None:
        self.setpriv = setpriv
        self.prctl = prctl

    @classmethod
    def probe(cls) -> DeathSignal:
        """Which way this machine offers, if any (runs ``setpriv`` once: ask only when needed)."""
        if not sys.platform.startswith("linux"):
            return cls(None, None)
        setpriv = shutil.which("setpriv")
        if setpriv is not None:
            try:
                subprocess.run(
                    [setpriv, "--pdeathsig", "KILL", "--", "true"], capture_output=True, check=True, timeout=10
                )
            except (OSError, subprocess.SubprocessError):
                setpriv = None
        import ctypes  # here: a process that never needs the death signal does not load it

        try:
            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            prctl = None
        return cls(setpriv, prctl)

    def wrap(self, argv: list[str], env: Mapping[str, str]) -> tuple[list[str], Callable[[], None] | None]:
        """The argv to start and the preexec_fn (or None) that give the child the parent-death signal."""
        if self.setpriv is not None and _runnable(argv[0], env):
            return [self.setpriv, "--pdeathsig", "KILL", "--", *argv], None
        if self.prctl is None:
            return argv, None
        prctl, parent = self.prctl, os.getpid()

        def die_with_parent() -> None:  # runs in the child between fork and exec
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before the request took effect
                os.kill(os.getpid(), signal.SIGKILL)

        return argv, die_with_parent


def _runnable(program: str, env: Mapping[str, str]) -> bool:
    """Whether exec would find ``program`` (else Popen itself must fail: the launch error is clearer)."""
    if os.sep in program:
        return os.access(program, os.X_OK) and not os.path.isdir(program)
    return shutil.which(program, path=env.get("PATH", os.defpath)) is not None


@functools.cache
def death_signal() -> DeathSignal:
    """This machine's way to a parent-death signal, probed once per process on first use."""
    return DeathSignal.probe()


def run_command(
    argv: Sequence[str],
    env: Mapping[str, str],
    timeout: float,
    should_stop: Callable[[], object] | None = None,
    tail_bytes: int = TAIL_BYTES,
    cwd: str | None = None,
    children: Children | None = None,
    *,
    stdin: int | None = None,
    forward: tuple[int | None, int | None] = (None, None),
    watch=None,
    stop_grace: float = TERM_GRACE,
    die_with_parent: bool = False,
    tagged: bool = False,
    busy: Callable[[], bool] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> RunResult:
    """Run ``argv`` to its end, its timeout or the stop signal; ``children`` tracks it meanwhile.

    ``stdin``: a descriptor for the child's stdin (default /dev/null). ``forward``: descriptors the
    child's stdout and stderr are copied to. ``watch``: a socket that becomes readable when the
    caller the command runs for is gone; the command is then cancelled. ``die_with_parent``: also
    ask the kernel for the parent-death signal (one more exec where it goes through ``setpriv``).
    ``tagged``: the child and all it starts inherit the watchdog's tag (:mod:`..state.guard`), so that
    ``children.kill_tagged()`` and the watchdog find them in any session. ``busy``: once the child
    has exited by itself, its group is kept (and its pipes read) while ``busy()`` says that what it
    left running still works (shell mode: usacloud calls of background jobs), and for
    :data:`LINGER_GRACE` while the group has members (a job about to call); the timeout and stop hold.
    ``on_start`` gets the child's pid (its session's id) as soon as it is started.
    """
    started, t0 = time.time(), time.monotonic()
    env = dict(env)
    mark = children.mark() if children is not None else None
    if mark is not None:
        env[mark[0]] = mark[1]  # the watchdog's mark: passed on to what the child starts
    if mark is None or die_with_parent:
        start_argv, preexec = death_signal().wrap(list(argv), env)
    else:
        start_argv, preexec = list(argv), None
    tag = children.guard.tag if tagged and children is not None else None
    try:
        proc = subprocess.Popen(
            start_argv,
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,  # own session and process group: we can kill the whole group
            preexec_fn=preexec,
            pass_fds=() if tag is None else (tag,),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        reason = getattr(exc, "strerror", None) or exc
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
            launch_error=f"{reason}: {argv[0]}",
        )
    if on_start is not None:
        on_start(proc.pid)
    out_fd, err_fd = forward
    if err_fd is not None and err_fd == out_fd:
        err_fd = os.dup(err_fd)  # one selector key per descriptor
    outputs = [Output(proc.stdout, tail_bytes, out_fd), Output(proc.stderr, tail_bytes, err_fd)]
    timed_out = cancelled = False
    try:
        if children is not None:
            children.add(proc)
        timed_out, cancelled = pump(proc, outputs, t0, timeout, should_stop, watch, stop_grace, busy)
    finally:
        release(proc, outputs, children)
        if err_fd is not None and err_fd != forward[1]:
            os.close(err_fd)
    return finished(argv, started, t0, proc, outputs, timed_out=timed_out, cancelled=cancelled)


def release(proc: subprocess.Popen, outputs: list[Output], children: Children | None) -> None:
    """After a child: kill what is left of its group, forget it, close its pipes."""
    kill_group(proc.pid, signal.SIGKILL)  # leftovers of the group (grandchildren) never outlive the command
    proc.wait()
    if children is not None:
        children.discard(proc)
    for output in outputs:
        output.pipe.close()


def finished(argv, started: float, t0: float, proc: subprocess.Popen, outputs: list[Output], **flags) -> RunResult:
    code = proc.returncode
    out, err = outputs[0].tail, outputs[1].tail
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


def pump(
    proc, outputs: list[Output], t0, timeout, should_stop, watch=None, stop_grace=TERM_GRACE, busy=None
) -> tuple[bool, bool]:
    """Read the child's pipes until EOF (copying them where asked) while watching timeout, stop and caller.

    Returns (timed_out, cancelled). A pipe is not read while its last chunk waits to be copied, so a
    slow reader slows the child as it would without the sandbox in between.
    """
    sel = selectors.DefaultSelector()
    for output in outputs:
        os.set_blocking(output.pipe.fileno(), False)
        sel.register(output.pipe, selectors.EVENT_READ, output)
    if watch is not None:
        sel.register(watch, selectors.EVENT_READ, None)  # the caller says nothing during a run: readable = gone
    quiet_since = None  # when the child had exited and nothing more came
    lingered = False  # its group was kept for ``busy``: a timeout or stop then ends it as if still running
    try:
        while any(o.open or o.pending for o in outputs) or _lingers(proc, busy, quiet_since):
            for key, _ in sel.select(POLL):
                output = key.data
                if output is None:
                    terminate(proc, grace=1.0)
                    return False, True
                if key.fileobj is output.pipe:
                    _read(sel, output)
                    quiet_since = None
                else:
                    output.write_some()
                    if not output.pending:
                        sel.unregister(key.fileobj)
                        if output.open:
                            sel.register(output.pipe, selectors.EVENT_READ, output)
            if proc.poll() is not None:
                now = time.monotonic()
                quiet_since = quiet_since or now
                if now - t0 > timeout or (should_stop is not None and should_stop()):
                    if lingered:
                        return now - t0 > timeout, now - t0 <= timeout
                    break  # the command is over; only the copy to a reader that does not read is cut
                if _lingers(proc, busy, quiet_since):
                    lingered = True
                    continue
                if now - quiet_since > DRAIN_GRACE and not any(o.pending for o in outputs):
                    break  # a grandchild keeps the pipe open; the group is killed by the caller
                continue
            if time.monotonic() - t0 > timeout:
                terminate(proc)
                return True, False
            if should_stop is not None and should_stop():
                terminate(proc, grace=stop_grace)
                return False, True
    finally:
        sel.close()
    proc.wait()
    return False, False


def _lingers(proc, busy, quiet_since: float | None) -> bool:
    """After the child exited: whether its group is kept for ``busy`` (see :func:`run_command`)."""
    if busy is None or proc.poll() is None:
        return False
    if busy():
        return True
    return time.monotonic() - (quiet_since or time.monotonic()) <= LINGER_GRACE and kill_group(proc.pid, 0)


def _read(sel: selectors.BaseSelector, output: Output) -> None:
    try:
        chunk = os.read(output.pipe.fileno(), CHUNK)
    except BlockingIOError:
        return
    if not chunk:
        sel.unregister(output.pipe)
        output.open = False
        return
    output.tail.add(chunk)
    if output.forward is None:
        return
    output.pending = chunk  # copied once the reader can take it: a blocking write could outlast the timeout
    sel.unregister(output.pipe)
    try:
        sel.register(output.forward, selectors.EVENT_WRITE, output)
    except (PermissionError, ValueError):  # a regular file or /dev/null: not pollable, never blocks for long
        output.write_all()
        sel.register(output.pipe, selectors.EVENT_READ, output)


def terminate(proc: subprocess.Popen, grace: float = TERM_GRACE) -> None:
    """TERM the process group, then KILL it if it is still there after ``grace`` seconds."""
    kill_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid, signal.SIGKILL)
        proc.wait()
