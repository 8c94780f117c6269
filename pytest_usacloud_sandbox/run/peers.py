"""Who is at the other end of a broker's connection, as the kernel says (Linux ``/proc``).

The broker serves only processes of the script it runs: descendants of its worker, or in bash's
session (a job that outlived bash). On the Unix socket the kernel names the caller
(``SO_PEERCRED``); bash can only speak TCP, and declares its pid, so over TCP the declared process
must be the one holding the connection's other end: its socket's inode (``/proc/net/tcp``) among the
process's descriptors (``/proc/PID/fd``).
"""

from __future__ import annotations

import os
import socket
import stat
import sys
from pathlib import Path


def is_other_end(fd: int | None, conn: socket.socket) -> bool:
    """Whether ``fd`` is the client's end of ``conn`` (a connection to us)."""
    if fd is None or not stat.S_ISSOCK(os.fstat(fd).st_mode):
        return False
    probe = socket.socket(fileno=os.dup(fd))
    try:
        return probe.getpeername() == conn.getsockname() and probe.getsockname() == conn.getpeername()
    except OSError:
        return False
    finally:
        probe.close()


def holds_connection(pid: int, conn: socket.socket) -> bool:
    """Whether process ``pid`` holds the client end of ``conn``, a loopback TCP connection to us, as
    the kernel says: the client socket's inode from ``/proc/net/tcp`` among ``/proc/PID/fd``'s links.
    (The Unix socket has ``SO_PEERCRED``; bash can only speak TCP, and declares its pid.)"""
    inode = _tcp_inode(conn.getpeername(), conn.getsockname())
    if inode is None:
        return False
    target = f"socket:[{inode}]"
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return False
    for name in names:
        try:
            if os.readlink(f"{fd_dir}/{name}") == target:
                return True
        except OSError:
            continue
    return False


def _tcp_inode(local: tuple, remote: tuple) -> int | None:
    """The inode of the IPv4 TCP socket bound to ``local`` and connected to ``remote`` (this network
    namespace's ``/proc/net/tcp``), or None."""
    want = (_proc_address(*local[:2]), _proc_address(*remote[:2]))
    try:
        with open("/proc/net/tcp", encoding="ascii") as fh:
            next(fh, None)
            for row in fh:
                fields = row.split()
                if len(fields) > 9 and (fields[1], fields[2]) == want:
                    inode = int(fields[9])
                    return inode or None
    except (OSError, ValueError):
        return None
    return None


def _proc_address(host: str, port: int) -> str:
    """An IPv4 address as /proc/net/tcp writes it: the address's 32 bits in this machine's byte order, hex."""
    return f"{int.from_bytes(socket.inet_aton(host), sys.byteorder):08X}:{port:04X}"


def is_descendant(pid: int, ancestor: int) -> bool:
    """Whether ``pid`` is a (grand)child of ``ancestor``, from /proc's parent links."""
    for _ in range(64):
        if pid <= 1:
            return False
        pid = parent_of(pid)
        if pid == ancestor:
            return True
    return False


def parent_of(pid: int) -> int:
    """The parent of ``pid`` (0 if it is gone)."""
    fields = _stat(pid)
    return int(fields[1]) if fields else 0


def session_of(pid: int) -> int:
    """The session ``pid`` is in (0 if it is gone)."""
    fields = _stat(pid)
    return int(fields[3]) if len(fields) > 3 else 0


def is_running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    fields = _stat(pid)
    return bool(fields) and fields[0] not in ("Z", "X")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command's name (state, parent, ...), or []."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []
