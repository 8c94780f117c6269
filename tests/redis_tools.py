"""Redis for the tests: the shared server CI starts (USACLOUD_TEST_REDIS_URL) or a private one.

Outside CI a missing Redis skips those tests with a loud reason; in CI (USACLOUD_TEST_REQUIRE_REDIS=1,
set by .ci/run) it fails them, so the Redis backend can never go untested silently.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

SHARED_URL = os.environ.get("USACLOUD_TEST_REDIS_URL", "")
REQUIRED = os.environ.get("USACLOUD_TEST_REQUIRE_REDIS") == "1"


def missing(reason: str) -> None:
    message = f"!!! REDIS BACKEND NOT TESTED: {reason} !!!"
    if REQUIRED:
        pytest.fail(message + " (required in CI)")
    pytest.skip(message)


def shared_url() -> str:
    if not SHARED_URL:
        missing("set USACLOUD_TEST_REDIS_URL=redis://127.0.0.1:PORT/0 (see .ci/run)")
    return SHARED_URL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private redis-server on loopback, persistence off, that a test may stop."""

    def __init__(self, directory: Path, password: str | None = None) -> None:
        if not shutil.which("redis-server"):
            missing("no redis-server on PATH (apt-get install redis-server)")
        self.port = free_port()
        self.password = password
        argv = [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ]
        if password:
            argv += ["--requirepass", password]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready()

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.fail("redis-server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@contextmanager
def private_redis(directory: Path, password: str | None = None):
    server = RedisServer(directory, password)
    try:
        yield server
    finally:
        server.stop()
