"""Progress: plain lines at the interval without a terminal, a pinned status bar on a pty."""

from __future__ import annotations

import fcntl
import io
import os
import select
import struct
import termios
import threading
import time

import pytest

from pytest_usacloud_sandbox.report import progress as pg
from pytest_usacloud_sandbox.report.runlog import RunLog
from pytest_usacloud_sandbox.settings import Settings


def runlog(tmp_path, total=4):
    log = RunLog(Settings(), tmp_path, time.time(), {}, "", workers=1)
    log.set_total(total)
    log.script_started("a.usacloud::a")
    return log


class Drain:
    """Reads everything written to ``fd`` on a thread, with the time each chunk arrived."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.chunks: list[tuple[float, bytes]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # EIO: the pty's slave side is closed
                return
            if not data:
                return
            self.chunks.append((time.monotonic(), data))

    def finish(self) -> bytes:
        time.sleep(0.1)
        self._done.set()
        self._thread.join(timeout=2)
        return b"".join(c for _, c in self.chunks)


@pytest.fixture
def pipe():
    r, w = os.pipe()
    stream = os.fdopen(w, "w")
    drain = Drain(r)
    yield stream, drain
    stream.close()
    drain.finish()
    os.close(r)


def lines_of(data: bytes) -> list[str]:
    return [line for line in data.decode().split("\n") if line]


def test_plain_lines_at_the_interval_never_more_often(tmp_path, pipe):
    stream, drain = pipe
    calls = []

    def stats():
        calls.append(1)
        return {"gw0": {"commands": 7, "attempts": 7, "tokens": 7, "token_wait": 1.25}}

    progress = pg.Progress(runlog(tmp_path), stream, isatty=False, mode="auto", interval=0.2, read_worker_stats=stats)
    started = time.monotonic()
    progress.start()
    time.sleep(1.1)
    progress.stop()
    elapsed = time.monotonic() - started
    lines = lines_of(drain.finish())
    assert len(lines) <= int(elapsed / 0.2)  # never more often than the interval
    assert len(lines) >= 3  # and not much less often (generous for a loaded machine)
    assert len(calls) == len(lines)
    for line in lines:  # whole lines, no escape sequences
        assert line.startswith("usacloud: 0/4 scripts (0%) | 0 passed 0 failed 0 cancelled | 1 running | 7 cmds |")
        assert "token wait 1.2s" in line and "\x1b" not in line


def test_no_line_before_the_first_interval(tmp_path, pipe):
    stream, drain = pipe
    progress = pg.Progress(runlog(tmp_path), stream, isatty=False, mode="on", interval=10, read_worker_stats=dict)
    progress.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    progress.stop()
    assert time.monotonic() - t0 < 1  # stop does not wait for the interval
    assert drain.finish() == b""


def test_mode_off_writes_nothing(tmp_path, pipe):
    stream, drain = pipe
    progress = pg.Progress(runlog(tmp_path), stream, isatty=True, mode="off", interval=0.05, read_worker_stats=dict)
    progress.start()
    time.sleep(0.3)
    progress.stop()
    assert progress._thread is None and drain.finish() == b""


def test_modes(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    assert pg._mode("auto", True) == "bar" and pg._mode("on", True) == "bar"
    assert pg._mode("auto", False) == "lines" and pg._mode("on", False) == "lines"
    assert pg._mode("off", True) == "off"
    monkeypatch.setenv("TERM", "dumb")
    assert pg._mode("auto", True) == "lines" and pg._mode("on", True) == "bar"


def test_lines_survive_fd_capture(tmp_path, pipe):
    """pytest's fd capture replaces fd 1 during a test; the progress keeps its own copy."""
    stream, drain = pipe
    progress = pg.Progress(runlog(tmp_path), stream, isatty=False, mode="auto", interval=0.1, read_worker_stats=dict)
    progress.start()
    saved = os.dup(stream.fileno())
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), stream.fileno())
        time.sleep(0.45)
        os.dup2(saved, stream.fileno())
    os.close(saved)
    progress.stop()
    assert len(lines_of(drain.finish())) >= 2


def test_stream_without_descriptor_and_unfinished_line(tmp_path):
    out = io.StringIO()
    broken = iter([ValueError("torn stats file")])

    def stats():
        raise next(broken, OSError("gone"))

    progress = pg.Progress(
        runlog(tmp_path), out, isatty=True, mode="auto", interval=0.1, read_worker_stats=stats, line_start=lambda: False
    )
    progress.start()
    time.sleep(0.35)
    progress.stop()
    text = out.getvalue()
    assert text.startswith("\nusacloud: 0/4 scripts") and text.count("\nusacloud:") >= 2


def set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def test_status_bar_on_a_pty(tmp_path):
    master, slave = os.openpty()
    set_size(slave, 24, 120)
    stream = os.fdopen(slave, "w")
    drain = Drain(master)
    try:
        log = runlog(tmp_path, total=13)
        progress = pg.Progress(
            log,
            stream,
            isatty=True,
            mode="on",
            interval=1.0,
            read_worker_stats=lambda: {"gw0": {"commands": 41, "attempts": 41}},
        )
        progress.start()
        time.sleep(0.3)
        stream.write("pytest output\n")  # pytest's own output goes on above the bar
        stream.flush()
        time.sleep(2.2)
        progress.stop()
    finally:
        stream.close()
    data = drain.finish()
    os.close(master)
    assert data.startswith(b"\x1bD\x1bM\x1b7\x1b[1;23r\x1b8")  # the scroll region spares the bottom row
    draws = data.count(b"\x1b7\x1b[24;1H\x1b[2K\x1b[0musacloud: 0/13 scripts (0%)")
    assert draws >= 3  # at least once a second
    assert b"| 41 cmds |" in data
    assert b"pytest output\r\n" in data
    # each draw is cut to the width and restores the cursor
    for chunk in data.split(b"\x1b[0m")[1:]:
        line = chunk.split(b"\x1b8", 1)[0]
        assert len(line) <= 119
    # stop() resets the scroll region and clears the bar, after the last draw
    assert data.endswith(b"\x1b7\x1b[r\x1b[24;1H\x1b[2K\x1b8")
    assert progress._fd is None


def test_bar_follows_a_resize(tmp_path):
    master, slave = os.openpty()
    set_size(slave, 30, 100)
    stream = os.fdopen(slave, "w")
    drain = Drain(master)
    try:
        progress = pg.Progress(runlog(tmp_path), stream, isatty=True, mode="auto", interval=0.1, read_worker_stats=dict)
        progress.start()
        time.sleep(0.25)
        set_size(slave, 20, 50)
        time.sleep(0.35)
        progress.stop()
    finally:
        stream.close()
    data = drain.finish()
    os.close(master)
    assert b"\x1b[1;29r" in data and b"\x1b[30;1H\x1b[2K\x1b[1;19r" in data
    assert data.endswith(b"\x1b7\x1b[r\x1b[20;1H\x1b[2K\x1b8")
