"""The process groups one process has running: so that nothing it started outlives the session.

Every child (a usacloud command, or bash in shell mode) runs in its own process group. Stop, timeout,
Ctrl-C, SIGTERM and the session's end call :meth:`Children.terminate_all`. Each running group is also
recorded in ``directory`` as an empty file named after its id, so that another process on the host can
:func:`sweep` what a dead worker left, and this process's watchdog (:mod:`.guard`) kills it at its death.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from .guard import Guard

TERM_GRACE = 2.0  # seconds between TERM and KILL


def kill_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to the process group; False if it is gone (or not ours)."""
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


class Children:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self._live: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self.guard = Guard(directory)

    def mark(self) -> tuple[str, str] | None:
        """The environment variable (name, value) every child gets: what carries it dies with this
        process (the watchdog, started now if it is not running). None: no watchdog could start."""
        return self.guard.mark()

    def add(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._live[proc.pid] = proc
        self.record(proc.pid)

    def discard(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._live.pop(proc.pid, None)
        self.forget(proc.pid)

    def record(self, pgid: int) -> None:
        """Note a running group in the directory (also for groups started by another process of ours)."""
        if self.directory is not None:  # (one open; Path.touch tries utime first, which fails here)
            os.close(os.open(os.path.join(self.directory, str(pgid)), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o666))

    def forget(self, pgid: int) -> None:
        if self.directory is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.directory, str(pgid)))

    def __len__(self) -> int:
        with self._lock:
            return len(self._live)

    def terminate_all(self, grace: float = TERM_GRACE) -> int:
        """TERM every running child's group, KILL what is left after ``grace`` seconds. Returns how many."""
        with self._lock:
            procs = list(self._live.values())
        for proc in procs:
            kill_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            kill_group(proc.pid, signal.SIGKILL)
        return len(procs)

    def kill_tagged(self) -> int:
        """Kill what a child started with the watchdog's tag left behind (:meth:`~.guard.Guard.kill_tagged`)."""
        return self.guard.kill_tagged()

    def close(self) -> None:
        """The session's end: the watchdog sweeps what is left (nothing, after :meth:`terminate_all`) and exits."""
        self.guard.close()


def sweep(directory: Path) -> int:
    """Kill the process groups still recorded under ``directory`` (left by a process that died).

    Walks sub-directories (one per worker) and removes the entries. Returns how many groups were killed.
    """
    killed = 0
    for entry in sorted(directory.rglob("*")) if directory.is_dir() else ():
        if entry.is_dir():
            continue
        if entry.name.isdigit() and kill_group(int(entry.name), signal.SIGKILL):
            killed += 1
        entry.unlink(missing_ok=True)
    return killed
