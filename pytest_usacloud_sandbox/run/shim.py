"""The Python shim: shell mode's fallback client where the kernel refuses ``pidfd_getfd``.

Started as ``python -I -S .../shim.py SOCKET ARGS...`` by the ``usacloud`` bash function when its
broker answers ``F`` (:mod:`protocol`). Standard library only, so it starts in tens of milliseconds.
It sends the call with its stdin, stdout and stderr (``SCM_RIGHTS``) and exits with the status it gets
back; if it is killed, its socket closes and the broker cancels the call. Without a broker it refuses.
"""

from __future__ import annotations

import json
import os
import socket
import sys

LINE_ENV = "USACLOUD_SANDBOX_LINE"
ENV_PREFIX = "USACLOUD_SANDBOX_"
PREFIX = "usacloud (pytest-usacloud-sandbox): "
EXIT_REFUSED, EXIT_TIMEOUT, EXIT_NOT_STARTED, EXIT_CANCELLED = 1, 124, 127, 143
COOKIE_ENV = ENV_PREFIX + "COOKIE"  # the script's cookie, set by the usacloud function for the shim
TESTED_ENV = ENV_PREFIX + "STATUS_TESTED"  # "1": the function was called where bash ignores errexit


def request(args: list[str], env: dict[str, str], fds: list[int], cookie: str) -> bytes:
    line = env.get(LINE_ENV, "0")
    fields = ["shim", cookie, str(os.getpid()), line if line.isdigit() else "0", ",".join(map(str, fds))]
    fields += [str(len(args)), *args, json.dumps(env)]
    return b"".join(os.fsencode(f) + b"\0" for f in fields)


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write(f"{PREFIX}no sandbox broker given; usacloud was not run\n")
        return EXIT_REFUSED
    path, args = argv[0], argv[1:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"{PREFIX}no sandbox broker at {path} ({exc}); usacloud was not run\n")
        return EXIT_REFUSED
    fds = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            pass  # closed: usacloud gets it closed too
    env = dict(os.environ)
    cookie = env.pop(COOKIE_ENV, "")  # the script's cookie, from its usacloud function: the broker checks it
    socket.send_fds(sock, [request(args, env, fds, cookie)], fds)
    answer = b""
    while not answer.endswith(b"\n"):
        try:
            chunk = sock.recv(64)
        except OSError:
            chunk = b""
        if not chunk:
            sys.stderr.write(f"{PREFIX}the sandbox broker went away; the call was cancelled\n")
            return EXIT_CANCELLED
        answer += chunk
    text = answer.decode().strip()
    return int(text) if text.isdigit() else EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
