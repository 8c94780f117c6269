"""Progress: plain lines at the interval without a terminal, a pinned status bar on a pty.

Time is a fake clock: the tests call ``tick()`` themselves and never sleep for the interval.
"""

from __future__ import annotations

import fcntl
import io
import os
import select
import struct
import termios

import pytest

from pytest_usacloud_sandbox.report import progress as pg
from pytest_usacloud_sandbox.report.runlog import RunLog
from pytest_usacloud_sandbox.settings import Settings

T0 = 1_700_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return T0 + self.now - 100.0


def runlog(total=4, started=T0):
    log = RunLog(Settings(), "/nonexistent", started, {}, "", workers=1)
    log.set_total(total)
    log.script_started("a.usacloud::a", now=started)
    return log


def make(log, stream, clock, **kw):
    kw.setdefault("isatty", False)
    kw.setdefault("mode", "auto")
    kw.setdefault("interval", 10.0)
    kw.setdefault("read_worker_stats", dict)
    return pg.Progress(log, stream, clock=clock, wall=clock.wall, **kw)


def read_all(fd: int) -> bytes:
    data = b""
    while select.select([fd], [], [], 0.05)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the pty's slave side is closed
            break
        if not chunk:
            break
        data += chunk
    return data


def test_plain_lines_at_the_interval_never_more_often():
    out, clock, calls = io.StringIO(), Clock(), []

    def stats():
        calls.append(1)
        return {"gw0": {"commands": 7, "attempts": 7, "tokens": 7, "token_wait": 1.25}}

    progress = make(runlog(), out, clock, interval=10.0, read_worker_stats=stats)
    progress.start(thread=False)
    written = []
    for _ in range(120):  # 30 s in steps of 0.25 s
        clock.now += 0.25
        written.append(progress.tick())
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 == sum(written)  # at 10, 20 and 30 s: never more often than the interval
    assert [i for i, w in enumerate(written) if w] == [39, 79, 119]
    assert len(calls) == 3
    for line in lines:  # whole lines, no escape sequences, the running script with its time
        assert line.startswith("usacloud: 0/4 scripts (0%) | 0 passed 0 failed 0 skipped 0 cancelled | 7 cmds |")
        assert "token wait 0.18s/cmd" in line and "\x1b" not in line
    assert lines[0].endswith("| running 1: a.usacloud 00:10")
    assert progress.next_delay() == pytest.approx(10.0)


def test_a_due_line_waits_for_pytests_line_to_end():
    out, clock = io.StringIO(), Clock()
    at_start = [False]
    progress = make(runlog(), out, clock, interval=5.0, line_start=lambda: at_start[0])
    progress.start(thread=False)
    clock.now += 6
    assert progress.tick() is False and out.getvalue() == ""  # pytest is in the middle of its row of dots
    assert progress.next_delay() == pg.LINE_START_POLL
    clock.now += 0.1
    at_start[0] = True
    assert progress.tick() is True
    assert out.getvalue().startswith("usacloud: ") and out.getvalue().count("\n") == 1  # its own line
    assert not progress.tick()  # and the interval starts again


def test_no_line_before_the_first_interval_and_stop_does_not_wait():
    r, w = os.pipe()
    stream = os.fdopen(w, "w")
    try:
        progress = pg.Progress(runlog(), stream, isatty=False, mode="on", interval=600, read_worker_stats=dict)
        progress.start()  # with its thread
        progress.stop()  # returns at once: the thread waits on an event, not a sleep
        assert progress._thread is None
    finally:
        stream.close()
    assert read_all(r) == b""
    os.close(r)


def test_mode_off_writes_nothing():
    out, clock = io.StringIO(), Clock()
    progress = make(runlog(), out, clock, isatty=True, mode="off", interval=0.05)
    progress.start()
    clock.now += 10
    assert progress.tick() is False
    progress.stop()
    assert progress._thread is None and out.getvalue() == ""


def test_modes(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    assert pg._mode("auto", True) == "bar" and pg._mode("on", True) == "bar"
    assert pg._mode("auto", False) == "lines" and pg._mode("on", False) == "lines"
    assert pg._mode("off", True) == "off"
    monkeypatch.setenv("TERM", "dumb")
    assert pg._mode("auto", True) == "lines" and pg._mode("on", True) == "bar"


def test_lines_survive_fd_capture():
    """pytest's fd capture replaces fd 1 during a test; the progress keeps its own copy."""
    r, w = os.pipe()
    stream = os.fdopen(w, "w")
    clock = Clock()
    progress = make(runlog(), stream, clock, interval=1.0)
    progress.start(thread=False)
    saved = os.dup(stream.fileno())
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), stream.fileno())
        for _ in range(2):
            clock.now += 1
            assert progress.tick()
        os.dup2(saved, stream.fileno())
    os.close(saved)
    progress.stop()
    stream.close()
    assert read_all(r).count(b"usacloud: ") == 2
    os.close(r)


def test_broken_stats_and_a_stream_without_descriptor():
    out, clock = io.StringIO(), Clock()
    broken = iter([ValueError("torn stats file")])

    def stats():
        raise next(broken, OSError("gone"))

    progress = make(runlog(), out, clock, isatty=True, interval=1.0, read_worker_stats=stats)
    progress.start(thread=False)
    assert progress.kind == "lines"  # no descriptor: no bar
    for _ in range(2):
        clock.now += 1
        progress.tick()
    assert out.getvalue().count("usacloud: 0/4 scripts") == 2


def set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def test_status_bar_on_a_pty():
    master, slave = os.openpty()
    set_size(slave, 24, 120)
    stream = os.fdopen(slave, "w")
    clock = Clock()
    try:
        log = runlog(total=13)
        stats = {"gw0": {"commands": 41, "attempts": 41}}
        progress = make(log, stream, clock, isatty=True, mode="on", interval=1.0, read_worker_stats=lambda: stats)
        progress.start(thread=False)
        assert progress.next_delay() == pg.TTY_REFRESH
        stream.write("pytest output\n")  # pytest's own output goes on above the bar
        stream.flush()
        for _ in range(3):
            clock.now += pg.TTY_REFRESH
            progress.tick()
        data = read_all(master)
        progress.stop()
    finally:
        stream.close()
    data += read_all(master)
    os.close(master)
    assert data.startswith(b"\x1bD\x1bM\x1b7\x1b[1;23r\x1b8")  # the scroll region spares the bottom row
    assert data.count(b"\x1b7\x1b[24;1H\x1b[2K\x1b[0musacloud: 0/13 scripts (0%)") == 4  # start + 3 ticks
    assert b"| 41 cmds |" in data
    assert b"pytest output\r\n" in data
    for chunk in data.split(b"\x1b[0m")[1:]:  # each draw is cut to the width and restores the cursor
        line = chunk.split(b"\x1b8", 1)[0]
        assert len(line) <= 119
    assert data.endswith(b"\x1b7\x1b[r\x1b[24;1H\x1b[2K\x1b8")  # stop() resets the region, clears the bar
    assert progress._fd is None


def test_bar_follows_a_resize():
    master, slave = os.openpty()
    set_size(slave, 30, 100)
    stream = os.fdopen(slave, "w")
    clock = Clock()
    try:
        progress = make(runlog(), stream, clock, isatty=True, interval=0.1)
        progress.start(thread=False)
        set_size(slave, 20, 50)
        clock.now += 1
        progress.tick()
        progress.stop()
        data = read_all(master)
    finally:
        stream.close()
    os.close(master)
    assert b"\x1b[1;29r" in data and b"\x1b[30;1H\x1b[2K\x1b[1;19r" in data
    assert data.endswith(b"\x1b7\x1b[r\x1b[20;1H\x1b[2K\x1b8")
