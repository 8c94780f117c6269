"""Run a command in a network namespace with no network (``unshare -n``), for the real usacloud.

The real usacloud may only ever run where it can reach nothing: a new network namespace has no
interface but a loopback, which this brings up (so the loopback API stand-in, ``sakura_api.py``,
can serve inside it). Creating one needs root (or CAP_SYS_ADMIN); :func:`unavailable` says why not.

    run(argv, env, api={"token": ..., "secret": ..., "rules": [...], "log": PATH, "seed": {...}}, cwd=..., timeout=...)

runs ``argv`` inside a new namespace (with ``api``: the stand-in serving there, its root URL in the
command's ``SAKURACLOUD_API_ROOT_URL``) and returns its CompletedProcess. The whole process group
is killed if it runs over ``timeout``. Inside, this file is the program ``unshare`` starts.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1


@functools.cache
def unavailable() -> str | None:
    """Why a network namespace cannot be made here, or None if it can."""
    if shutil.which("unshare") is None:
        return "`unshare` (util-linux) is not installed"
    try:
        done = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"`unshare -n` could not run: {exc}"
    if done.returncode != 0:
        return f"`unshare -n` is not allowed here (it needs root): {done.stderr.strip()}"
    return None


def run(argv, env: dict, *, api: dict | None = None, cwd=None, timeout: float = 600) -> subprocess.CompletedProcess:
    """``argv`` in a new network namespace with only a loopback (and the API stand-in when ``api``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"argv": [str(a) for a in argv], "api": api}, fh)
    try:
        proc = subprocess.Popen(
            ["unshare", "-n", sys.executable, str(Path(__file__).resolve()), fh.name],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            err += f"\n[netns] killed after {timeout:g} s"
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)
    finally:
        os.unlink(fh.name)


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, _SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | _IFF_UP))


def _inside(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    _loopback_up()
    env = dict(os.environ)
    server = None
    if config.get("api") is not None:
        sys.path.insert(0, str(HERE))
        from sakura_api import Api, serve

        api = config["api"]
        server, root = serve(Api(api["token"], api["secret"], api.get("rules"), api.get("log"), api.get("seed")))
        env["SAKURACLOUD_API_ROOT_URL"] = root
    try:
        return subprocess.run(config["argv"], env=env, check=False).returncode
    finally:
        if server is not None:
            server.shutdown()


if __name__ == "__main__":
    sys.exit(_inside(sys.argv[1]))
