"""Shell mode's wire: how a usacloud call reaches its broker, and how the broker gets the caller's files.

A request is NUL-terminated fields, ``KIND TOKEN PID LINE FDS ARGC ARG... ENV``; the answer one line,
the exit status (or ``F``: use the shim). ``fn`` is the bash function (:data:`CLIENT`: builtins only,
over ``/dev/tcp`` to 127.0.0.1; the broker takes the caller's fds 0-2 with ``pidfd_getfd``), ``shim``
the Python shim over a Unix socket (fds passed with ``SCM_RIGHTS``). Nothing but a status comes back.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shlex
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from .shim import COOKIE_ENV, TESTED_ENV  # the cookie for the Python shim; where the call stands

FALLBACK = "F"
MAX_REQUEST = 4 * 1024 * 1024
#: What the broker reads before it has checked the caller: KIND TOKEN PID (a few dozen bytes).
AUTH_BYTES = 256
_AUTH_FIELDS = 3  # KIND TOKEN PID
_HEADER = 6  # KIND TOKEN PID LINE FDS ARGC
_SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture (new syscalls are numbered once)

#: The client: a bash function, read by the prologue (and exported) and by the PATH launcher.
#: Its options are local (``local -``), so a caller's ``set -x`` does not trace it and ``set -eu``
#: does not break it; the DEBUG trap (``set -T``) is off inside, so its lines never count as the
#: script's. It tells whether bash tests its status (an ``if`` condition, ``!``, ``&&``, ``||``...):
#: there bash ignores errexit, even a ``set -e`` in a subshell, which the probe (a plain command, in
#: a substitution, without the ERR trap: ``+E``) sees.
CLIENT = """\
usacloud() {{
  {{ local - __usb_fd __usb_rc; set +x +e +u +T +E; }} 2>/dev/null
  local -x {tested}=$( (set -e; false; exit 0); echo $((!$?)) )
  if ! {{ exec {{__usb_fd}}<>/dev/tcp/127.0.0.1/{port}; }} 2>/dev/null; then
    {cookie_env}={cookie} command {shim} "$@"  # no loopback TCP here (or no /dev/tcp): the Unix socket
    return
  fi
  {{
    printf '%s\\0' fn {cookie} "$BASHPID" "${{USACLOUD_SANDBOX_LINE:-0}}" "" "$#" "$@"
    export -p
    printf '\\0'
  }} >&"$__usb_fd"
  while ! IFS= read -r -u "$__usb_fd" __usb_rc; do
    [[ $? -gt 128 ]] || break
  done
  exec {{__usb_fd}}>&-
  if [[ $__usb_rc == {fallback} ]]; then
    {cookie_env}={cookie} command {shim} "$@"
    return
  fi
  return "${{__usb_rc:-143}}"
}}
"""


def client_text(port: int, cookie: str, shim: list[str]) -> str:
    """The client function for a broker on ``port`` (``shim``: argv prefix of the Python shim)."""
    return CLIENT.format(
        port=port, cookie=cookie, cookie_env=COOKIE_ENV, tested=TESTED_ENV, fallback=FALLBACK, shim=shlex.join(shim)
    )


class BadRequest(Exception):
    pass


class Stranger(BadRequest):
    """The caller is not a process of the script, or does not know its cookie."""


@dataclass(repr=False)
class Request:
    """One call as a client sent it; its repr shows neither the cookie nor the caller's environment."""

    kind: str
    token: str
    pid: int
    line: int
    words: list[str]
    env: dict[str, str]
    fds: list[int | None] = field(default_factory=list)  # shim: its 0, 1, 2 passed with SCM_RIGHTS (or None)

    def __repr__(self) -> str:
        return f"Request(kind={self.kind!r}, pid={self.pid}, line={self.line}, {len(self.words)} words)"


def read_request(conn: socket.socket, unix: bool, authenticate: Callable[[str, str, int], int]) -> Request:
    """Read one request (blocking; the caller sets a timeout). Descriptors passed with it are kept.

    ``authenticate(kind, token, pid)`` sees the first fields, at most :data:`AUTH_BYTES` of them,
    before anything more is read; it returns the caller's pid or raises :class:`Stranger` (the broker
    checks the script's cookie, and that the caller is a process of the script as the kernel names
    it: so a stranger cannot make it read or parse a large request). TOKEN is the cookie; for ``fn``
    PID is ``$BASHPID``, FDS empty and ENV ``export -p``; for ``shim`` FDS lists the descriptors
    passed and ENV is JSON.
    """
    buf, fds = bytearray(), []
    try:
        while buf.count(b"\0") < _AUTH_FIELDS:
            if len(buf) >= AUTH_BYTES:
                raise Stranger("no cookie where it belongs")
            buf += _receive(conn, unix, AUTH_BYTES - len(buf), fds)
        kind, token, pid = (f.decode("utf-8", "surrogateescape") for f in bytes(buf).split(b"\0")[:_AUTH_FIELDS])
        caller = authenticate(kind, token, _number(pid))
        fields = _rest(conn, unix, buf, fds)
    except BaseException:
        close_all(fds)
        raise
    line, numbers, argc = (f.decode("utf-8", "surrogateescape") for f in fields[3:_HEADER])
    words = [f.decode("utf-8", "surrogateescape") for f in fields[_HEADER : _HEADER + int(argc)]]
    env_text = fields[_HEADER + int(argc)].decode("utf-8", "surrogateescape")
    try:
        env = parse_export(env_text) if kind == "fn" else {str(k): str(v) for k, v in json.loads(env_text).items()}
    except (ValueError, AttributeError, RecursionError) as exc:
        close_all(fds)
        raise BadRequest(f"bad environment: {exc}") from None
    if kind == "shim":  # the descriptors it passed, by number
        passed = [_number(n) for n in numbers.split(",")]
        if len(passed) != len(fds):
            close_all(fds)
            raise BadRequest("the descriptors passed do not match the list")
        fds = [dict(zip(passed, fds, strict=True)).get(n) for n in (0, 1, 2)]
    return Request(kind, token, caller, _number(line), words, env, fds)


def _number(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() else 0


def _receive(conn: socket.socket, unix: bool, size: int, fds: list[int]) -> bytes:
    if unix:
        chunk, got, _, _ = socket.recv_fds(conn, size, 3)
        fds.extend(got)
    else:
        chunk = conn.recv(size)
    if not chunk:
        raise BadRequest("the client went away before its request was complete")
    return chunk


def _rest(conn: socket.socket, unix: bool, buf: bytearray, fds: list[int]) -> list[bytes]:
    """The rest of an authenticated request, up to :data:`MAX_REQUEST`: its fields."""
    nuls, needed = buf.count(b"\0"), None
    while True:
        if needed is None and nuls >= _HEADER:
            argc = bytes(buf).split(b"\0", _HEADER)[_HEADER - 1]
            if not argc.isdigit():
                raise BadRequest("bad request header")
            needed = _HEADER + int(argc) + 1  # every field and ENV
        if needed is not None and nuls >= needed:
            return bytes(buf).split(b"\0", needed)[:needed]
        if len(buf) > MAX_REQUEST:
            raise BadRequest("request too large")
        chunk = _receive(conn, unix, 65536, fds)
        nuls += chunk.count(b"\0")
        buf += chunk


# -- bash's `export -p` --------------------------------------------------------------------------

_DECL = re.compile(r"(?:declare|export)(?: -([a-zA-Z-]+))? ([A-Za-z_][A-Za-z_0-9]*)")
_ANSI = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def parse_export(text: str) -> dict[str, str]:
    """The exported variables in bash's ``export -p`` output (bash and POSIX mode forms).

    Values come as ``"..."`` (``\\`` before ``"``, ``\\``, ``$``, `````) or ``$'...'`` (ANSI-C
    escapes, used by bash 5.2 for control characters). Arrays and exported names without a value
    are left out: they do not reach a program's environment.
    """
    env: dict[str, str] = {}
    pos, end = 0, len(text)
    while pos < end:
        match = _DECL.match(text, pos)
        if match is None:
            raise ValueError(f"unexpected text at {pos}: {text[pos : pos + 40]!r}")
        flags, name = match.group(1) or "x", match.group(2)
        pos = match.end()
        value = None
        if text.startswith("=", pos):
            pos += 1
            if text.startswith('"', pos):
                value, pos = _double_quoted(text, pos + 1)
            elif text.startswith("$'", pos):
                value, pos = _ansi_quoted(text, pos + 2)
            elif text.startswith("(", pos):  # an array: skip it
                value, pos = None, _skip_array(text, pos)
            else:
                stop = text.find("\n", pos)
                stop = end if stop < 0 else stop
                value, pos = text[pos:stop], stop
        if text.startswith("\n", pos):
            pos += 1
        if value is not None and "a" not in flags and "A" not in flags:
            env[name] = value
    return env


def _double_quoted(text: str, pos: int) -> tuple[str, int]:
    out = []
    while True:
        if pos >= len(text):
            raise ValueError("unterminated double quote")
        c = text[pos]
        if c == '"':
            return "".join(out), pos + 1
        if c == "\\" and pos + 1 < len(text) and text[pos + 1] in '"\\$`\n':
            if text[pos + 1] != "\n":
                out.append(text[pos + 1])
            pos += 2
            continue
        out.append(c)
        pos += 1


def _ansi_quoted(text: str, pos: int) -> tuple[str, int]:
    """A ``$'...'`` value; octal and hex escapes are bytes (bash writes a UTF-8 character so outside a UTF-8 locale)."""
    out = bytearray()
    while True:
        if pos >= len(text):
            raise ValueError("unterminated $'...'")
        c = text[pos]
        if c == "'":
            return out.decode("utf-8", "surrogateescape"), pos + 1
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            pos += 1
            continue
        nxt = text[pos + 1 : pos + 2]
        octal = re.match(r"[0-7]{1,3}", text[pos + 1 : pos + 4])
        if nxt in _ANSI:
            out += _ANSI[nxt].encode()
            pos += 2
        elif octal is not None:
            out.append(int(octal.group(0), 8) & 0xFF)
            pos += 1 + len(octal.group(0))
        elif nxt == "x" and re.match(r"[0-9a-fA-F]", text[pos + 2 : pos + 3]):
            digits = re.match(r"[0-9a-fA-F]{1,2}", text[pos + 2 :]).group(0)
            out.append(int(digits, 16))
            pos += 2 + len(digits)
        elif nxt in ("u", "U") and re.match(r"[0-9a-fA-F]", text[pos + 2 : pos + 3]):
            most = 4 if nxt == "u" else 8
            digits = re.match(rf"[0-9a-fA-F]{{1,{most}}}", text[pos + 2 :]).group(0)
            out += chr(int(digits, 16)).encode("utf-8", "surrogatepass")
            pos += 2 + len(digits)
        elif nxt == "c" and pos + 2 < len(text):
            out.append(ord(text[pos + 2]) & 0x1F)
            pos += 3
        else:  # \\ \' \" \? and anything else: the character itself
            out += nxt.encode("utf-8", "surrogateescape")
            pos += 2


def _skip_array(text: str, pos: int) -> int:
    depth, quote = 0, None
    while pos < len(text):
        c = text[pos]
        if quote:
            if c == "\\" and quote == '"':
                pos += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
    return pos


# -- the caller's descriptors ----------------------------------------------------------------------


class NoDescriptors(Exception):
    """The kernel will not hand another process's descriptors to this one (no pidfd_getfd here)."""


class _PidfdGetfd:
    def __init__(self) -> None:
        self.syscall = None
        if sys.platform.startswith("linux") and hasattr(os, "pidfd_open"):
            try:
                self.syscall = ctypes.CDLL(None, use_errno=True).syscall
            except (OSError, AttributeError):
                self.syscall = None

    def take(self, pid: int, numbers=(0, 1, 2)) -> list[int | None]:
        """Duplicates of ``pid``'s descriptors (None for one it has closed). Raises NoDescriptors."""
        if self.syscall is None:
            raise NoDescriptors("pidfd_getfd is not available on this platform")
        try:
            pidfd = os.pidfd_open(pid)
        except OSError as exc:
            raise LookupError(f"the calling process {pid} is gone: {exc.strerror}") from None
        taken: list[int | None] = []
        try:
            for number in numbers:
                fd = self.syscall(_SYS_PIDFD_GETFD, pidfd, number, 0)
                if fd >= 0:
                    taken.append(fd)
                    continue
                err = ctypes.get_errno()
                if err == errno.EBADF:
                    taken.append(None)
                    continue
                close_all(taken)
                if err == errno.ESRCH:
                    raise LookupError(f"the calling process {pid} is gone")
                raise NoDescriptors(f"pidfd_getfd: {os.strerror(err)}")
        finally:
            os.close(pidfd)
        return taken


PIDFD = _PidfdGetfd()  # immutable after import: the libc entry point, if any


def close_all(fds) -> None:
    for fd in fds:
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
