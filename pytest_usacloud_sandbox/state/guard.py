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
   so neither a reused pid nor another run's processes can match;
3. kills every process (but this one) holding this guard's *tag*: the read end of a pipe of its own,
   which shell mode hands to bash as an open descriptor and which everything bash starts inherits.
   A script can drop an environment variable on the way (``setsid env -u USACLOUD_SANDBOX_GUARD
   sleep 1000 &``); an inherited descriptor stays unless the script closes it by its number. Found
   with ``find /proc/*/fd -lname`` (GNU or busybox find). :meth:`Guard.kill_tagged` does the same
   from Python after each shell-mode script.

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
import signal
import subprocess
import threading
from pathlib import Path

MARK_ENV = "USACLOUD_SANDBOX_GUARD"
CLOSE_WAIT = 10.0  # seconds the session's end waits for the sweep

# $1: the registry directory ('' for none); $2: the mark, as NAME=token; $3: the tag's link text as a
# find pattern (`pipe:\[INODE\]`); $4: this process's pid (it holds the tag too). Nothing is ever
# written to the pipe: `read` returns at EOF, when the last holder of the write end (this process) is gone.
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
if [ -n "$3" ] && command -v find >/dev/null 2>&1; then
  for f in $(find /proc/[0-9]*/fd -maxdepth 1 -lname "$3" 2>/dev/null); do
    p=${f#/proc/}
    p=${p%%/*}
    [ "$p" = "$4" ] || kill -s KILL -- "$p" 2>/dev/null
  done
fi
"""


class Guard:
    """This process's watchdog, started on first use (:meth:`mark`)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.token = secrets.token_hex(12)
        self._proc: subprocess.Popen | None = None
        self._write = None  # the pipe's write end (a file object: closed if this object is collected)
        self._tag: int | None = None  # the read end of a pipe of its own: the descriptor bash inherits
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
            if self._tag is None:
                self._tag, tag_write = os.pipe()  # the read end is the tag (its inode); nothing is written
                os.close(tag_write)
            read_end, write_end = os.pipe()  # neither end inheritable: the watchdog gets read_end as stdin
            try:
                self._proc = subprocess.Popen(
                    [
                        sh,
                        "-c",
                        SCRIPT,
                        "usacloud-sandbox-guard",
                        str(self.directory or ""),
                        f"{MARK_ENV}={self.token}",
                        f"pipe:\\[{os.fstat(self._tag).st_ino}\\]",
                        str(self._pid),
                    ],
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

    @property
    def tag(self) -> int | None:
        """The descriptor to hand a child whose every descendant must die with this process (bash in
        shell mode), once the watchdog runs; None without one."""
        return self._tag if self.running else None

    def kill_tagged(self) -> int:
        """Kill every other process holding the tag (what a shell-mode script left behind, in any
        session and whatever its environment); returns how many."""
        if self._tag is None or self._pid != os.getpid():
            return 0
        target = f"pipe:[{os.fstat(self._tag).st_ino}]"
        killed = 0
        for pid in holders(target):
            if pid != self._pid:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
        return killed

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
        if self._tag is not None and self._pid == os.getpid():
            os.close(self._tag)
            self._tag = None


def holders(link: str) -> list[int]:
    """The pids of the processes with a descriptor whose ``/proc`` link reads ``link`` (Linux)."""
    found = []
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return found
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") == link:
                    found.append(int(pid))
                    break
            except OSError:
                continue
    return found
