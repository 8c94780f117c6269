"""A watchdog per process: what the process started dies with it, even when it is killed with SIGKILL.

On the first child, :class:`Guard` starts one small ``sh`` in a session of its own, blocked on a pipe
only this process can write. When the process ends, however it ends, the pipe reaches EOF and the
``sh`` kills what is left (:data:`SCRIPT`). One ``sh`` per process costs less than ``setpriv
--pdeathsig`` per command (one more exec, ~2 ms of CPU each).
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
# Then it kills (1) every group still in the children registry; (2) every process whose environment
# carries the mark, which children pass on: a child killed before its registry entry, what a shell-mode
# script started in another group or session (a token names one process's descendants only); (3) every
# process holding the tag, a pipe's read end bash inherits: a script can drop a variable
# (`setsid env -u USACLOUD_SANDBOX_GUARD sleep 1000 &`), an inherited descriptor stays.
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
