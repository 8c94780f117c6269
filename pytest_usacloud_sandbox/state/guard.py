"""A watchdog per process: what the process started dies with it, even when it is killed with SIGKILL.

The first time a process of the run is about to start a child, :class:`Guard` starts one small
``sh`` for it, in a session of its own (the terminal's Ctrl-C does not reach it; it ignores INT,
TERM, HUP and QUIT anyway). The ``sh`` blocks reading a pipe whose write end only this process
holds (not inherited by any child). When the process ends, however it ends, the pipe reaches EOF
and the ``sh``, before it exits:

1. kills every process group still recorded in the process's children registry (the directory of
   :class:`~.children.Children`: one empty file per running group, named after its id);
2. kills every process whose environment carries this guard's mark, ``USACLOUD_SANDBOX_GUARD=<a
   random token of this process>``, read from ``/proc/<pid>/environ`` (Linux). Every child gets the
   mark in its environment and passes it on to what it starts: this covers a child killed in the
   window between its start and its registry entry, and what a shell-mode script started in the
   background in another process group or session. A token names one process's descendants only,
   so neither a reused pid nor another run's processes can match.

It costs one ``sh`` per process instead of something per command (``setpriv --pdeathsig``: one more
exec, ~2 ms of CPU, per command). The runner still asks the kernel for ``PR_SET_PDEATHSIG`` where it
is cheap against what it guards (once per shell-mode bash), or where no guard could be started.
At the end of the session :meth:`Guard.close` closes the pipe and waits for the sweep: by then it
finds nothing left, unless something escaped ``terminate_all``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import threading
from pathlib import Path

MARK_ENV = "USACLOUD_SANDBOX_GUARD"
CLOSE_WAIT = 10.0  # seconds the session's end waits for the sweep

# $1: the registry directory ('' for none); $2: the mark, as NAME=token. Nothing is ever written to
# the pipe: `read` returns at EOF, when the last holder of the write end (this process) is gone.
SCRIPT = r"""
trap '' INT TERM HUP QUIT PIPE
while read -r _; do :; done
if [ -n "$1" ] && cd "$1" 2>/dev/null; then
  for f in *; do
    case $f in ''|*[!0-9]*) continue ;; esac
    kill -s KILL -- "-$f" 2>/dev/null
    rm -f -- "$f"
  done
fi
for f in $(grep -lzxF -e "$2" /proc/[0-9]*/environ 2>/dev/null); do
  p=${f#/proc/}
  kill -s KILL -- "${p%/environ}" 2>/dev/null
done
"""


class Guard:
    """This process's watchdog, started on first use (:meth:`mark`)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.token = secrets.token_hex(12)
        self._proc: subprocess.Popen | None = None
        self._write = None  # the pipe's write end (a file object: closed if this object is collected)
        self._pid = os.getpid()  # a forked copy of this object guards nothing
        self._failed = False
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._pid == os.getpid() and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The watchdog's process id, once it was started (None before, and after :meth:`close`)."""
        proc = self._proc
        return proc.pid if proc is not None else None

    def mark(self) -> tuple[str, str] | None:
        """The (name, value) to put in a child's environment, once the watchdog runs; None if it cannot run."""
        if not self.running and not self._start():
            return None
        return MARK_ENV, self.token

    def _start(self) -> bool:
        with self._lock:
            if self.running:
                return True
            if self._failed or self._pid != os.getpid():
                return False
            if self._write is not None:  # the watchdog died (killed from outside): start another
                self._write.close()
                self._write = None
            sh = shutil.which("sh") or "/bin/sh"
            read_end, write_end = os.pipe()  # neither end inheritable: the watchdog gets read_end as stdin
            try:
                self._proc = subprocess.Popen(
                    [sh, "-c", SCRIPT, "usacloud-sandbox-guard", str(self.directory or ""), f"{MARK_ENV}={self.token}"],
                    stdin=read_end,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env={k: v for k, v in os.environ.items() if k != MARK_ENV},
                    start_new_session=True,
                    cwd="/",
                )
            except OSError:
                os.close(write_end)
                self._failed = True
                return False
            finally:
                os.close(read_end)
            self._write = open(write_end, "wb", buffering=0)  # noqa: SIM115 (held until close)
            return True

    def close(self, wait: float = CLOSE_WAIT) -> None:
        """End the watchdog: it sweeps (finding nothing, normally) and exits."""
        with self._lock:
            proc, write_end = self._proc, self._write
            self._proc = self._write = None
        if write_end is not None:
            write_end.close()
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(wait)
