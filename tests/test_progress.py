"""Progress: plain lines at the interval without a terminal, a pinned status bar on one; the ticker
that wakes an xdist controller's main thread to write them.

Time is a fake clock and the terminal a stand-in: the tests call ``tick()`` themselves and never
sleep for the interval.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from types import SimpleNamespace

import pytest

from pytest_usacloud_sandbox.report import progress as pg
from pytest_usacloud_sandbox.report import ticker as tk
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


class Terminal:
    """pytest's terminal as progress sees it: whole lines, raw escape sequences, a size."""

    def __init__(self, isatty=False, rows=24, cols=120, broken=False) -> None:
        self.isatty = isatty
        self.rows, self.cols = rows, cols
        self.lines: list[str] = []
        self.raws: list[str] = []
        self.broken = broken

    def line(self, text: str) -> None:
        if self.broken:
            raise OSError("the terminal went away")
        self.lines.append(text)

    def raw(self, text: str) -> None:
        self.raws.append(text)

    def size(self) -> tuple[int, int]:
        return self.rows, self.cols


def runlog(total=4, started=T0):
    log = RunLog(Settings(), "/nonexistent", started, {}, "", workers=1)
    log.set_total(total)
    log.script_started("a.usacloud::a", now=started)
    return log


def make(log, terminal, clock, **kw):
    kw.setdefault("mode", "auto")
    kw.setdefault("interval", 10.0)
    kw.setdefault("read_worker_stats", dict)
    return pg.Progress(log, terminal, clock=clock, wall=clock.wall, **kw)


def test_plain_lines_at_the_interval_never_more_often():
    terminal, clock, calls = Terminal(), Clock(), []

    def stats():
        calls.append(1)
        return {"gw0": {"commands": 7, "attempts": 7, "tokens": 7, "token_wait": 1.25}}

    progress = make(runlog(), terminal, clock, interval=10.0, read_worker_stats=stats)
    progress.start()
    written = []
    for _ in range(120):  # 30 s in steps of 0.25 s
        clock.now += 0.25
        written.append(progress.tick())
    assert len(terminal.lines) == 3 == sum(written)  # at 10, 20 and 30 s: never more often than the interval
    assert [i for i, w in enumerate(written) if w] == [39, 79, 119]
    assert len(calls) == 3
    for line in terminal.lines:  # whole lines, no escape sequences, the running script with its time
        assert line.startswith("usacloud: 0/4 scripts (0%) | 0 passed 0 failed 0 skipped 0 cancelled | 7 cmds |")
        assert "token wait 0.18s/cmd" in line and "\x1b" not in line
    assert terminal.lines[0].endswith("| running 1: a.usacloud 00:10")
    assert progress.next_delay() == pytest.approx(10.0)
    assert terminal.raws == []


def test_a_line_every_interval_however_often_it_is_asked():
    """Asked at every hook and every poll of a waiting command (many times a second), or only at
    long gaps: one line per interval, at the first ask once it is due."""
    terminal, clock = Terminal(), Clock()
    progress = make(runlog(), terminal, clock, interval=1.0)
    progress.start()
    assert progress.next_delay() == pytest.approx(1.0)
    clock.now += 0.5
    assert not progress.tick()
    clock.now += 3.7  # a long gap: one line, not four
    assert progress.tick() and len(terminal.lines) == 1
    assert progress.next_delay() == pytest.approx(1.0)
    clock.now += 1.0
    assert progress.next_delay() == 0.0 and progress.tick()


def test_no_line_before_the_first_interval():
    terminal, clock = Terminal(), Clock()
    progress = make(runlog(), terminal, clock, mode="on", interval=600)
    progress.start()
    clock.now += 599
    assert not progress.tick()
    progress.stop()
    assert terminal.lines == [] and terminal.raws == []


def test_mode_off_writes_nothing():
    terminal, clock = Terminal(isatty=True), Clock()
    progress = make(runlog(), terminal, clock, mode="off", interval=0.05)
    progress.start()
    clock.now += 10
    assert progress.tick() is False and not progress.active
    progress.stop()
    assert terminal.lines == [] and terminal.raws == []


def test_modes(monkeypatch):
    def kind(mode: str, isatty: bool) -> str:
        return make(runlog(), Terminal(isatty=isatty), Clock(), mode=mode).kind

    monkeypatch.setenv("TERM", "xterm-256color")
    assert kind("auto", True) == "bar" and kind("on", True) == "bar"
    assert kind("auto", False) == "lines" and kind("on", False) == "lines"
    assert kind("off", True) == "off"
    monkeypatch.setenv("TERM", "dumb")
    assert kind("auto", True) == "lines" and kind("on", True) == "bar"


def test_broken_stats_and_a_terminal_that_went_away():
    terminal, clock = Terminal(), Clock()
    broken = iter([ValueError("torn stats file")])

    def stats():
        raise next(broken, OSError("gone"))

    progress = make(runlog(), terminal, clock, interval=1.0, read_worker_stats=stats)
    progress.start()
    for _ in range(2):
        clock.now += 1
        assert progress.tick()
    assert [line.startswith("usacloud: 0/4 scripts") for line in terminal.lines] == [True, True]
    terminal.broken = True
    clock.now += 1
    assert not progress.tick() and not progress.active  # stops writing, never fails the run
    clock.now += 1
    assert not progress.tick()


def test_status_bar_fits_the_terminal_and_keeps_pytests_lines_above_it():
    terminal, clock = Terminal(isatty=True, rows=24, cols=80), Clock()
    log = runlog(total=13)
    stats = {"gw0": {"commands": 41, "attempts": 41}}
    progress = make(log, terminal, clock, mode="on", interval=1.0, read_worker_stats=lambda: stats)
    progress.start()
    assert progress.next_delay() == pytest.approx(pg.TTY_REFRESH)
    for _ in range(3):
        clock.now += pg.TTY_REFRESH
        assert progress.tick()
    clock.now += pg.TTY_REFRESH / 10
    assert not progress.tick()  # never more often than the refresh
    progress.stop()
    assert terminal.lines == []  # the bar never writes a line of its own
    assert terminal.raws[0] == "\x1bD\x1bM\x1b7\x1b[1;23r\x1b8"  # the scroll region spares the bottom row
    draws = terminal.raws[1:-1]
    assert len(draws) == 4  # at start, then 3 ticks
    for draw in draws:  # each draw saves and restores the cursor, and fits the width: whole fields
        assert draw.startswith("\x1b7\x1b[24;1H\x1b[2K\x1b[0musacloud: 0/13 scripts (0%) | ") and draw.endswith("\x1b8")
        text = draw.split("\x1b[0m", 1)[1][: -len("\x1b8")]
        assert len(text) <= 79 and "| running 1" in text, text  # at 80 columns the running script shows
    assert terminal.raws[-1] == "\x1b7\x1b[r\x1b[24;1H\x1b[2K\x1b8"  # stop resets the region, clears the bar


def test_bar_follows_a_resize():
    terminal, clock = Terminal(isatty=True, rows=30, cols=100), Clock()
    progress = make(runlog(), terminal, clock, interval=0.1)
    progress.start()
    terminal.rows, terminal.cols = 20, 50
    clock.now += 1
    progress.tick()
    progress.stop()
    data = "".join(terminal.raws)
    assert "\x1b[1;29r" in data and "\x1b[30;1H\x1b[2K\x1b[1;19r" in data
    assert all(len(d.split("\x1b[0m", 1)[1].removesuffix("\x1b8")) <= 49 for d in terminal.raws[2:-1])
    assert data.endswith("\x1b7\x1b[r\x1b[20;1H\x1b[2K\x1b8")


def test_a_tiny_terminal_gets_lines():
    terminal, clock = Terminal(isatty=True, rows=2, cols=80), Clock()
    progress = make(runlog(), terminal, clock, interval=1.0)
    progress.start()
    assert progress.kind == "lines"


# -- the ticker -----------------------------------------------------------------------------------


def test_the_ticker_wakes_the_main_thread_while_it_waits_on_a_queue():
    """As xdist's controller waits for its workers' next event: the tick runs on the main thread."""
    assert threading.current_thread() is threading.main_thread()
    ran = []
    ticker = tk.Ticker(lambda: ran.append(threading.current_thread() is threading.main_thread()), lambda: 0.0)
    assert ticker.start()
    try:
        with pytest.raises(queue.Empty):
            queue.Queue().get(timeout=1.0)
    finally:
        ticker.stop()
    assert len(ran) >= 2 and all(ran), ran  # about ten at RETRY = 0.1 s; two on a loaded machine
    assert signal.getsignal(tk.WAKE) == signal.SIG_DFL  # taken back
    assert not any(t.name == "usacloud-progress-ticker" for t in threading.enumerate())


def test_the_ticker_signals_only_when_something_is_due():
    ran = []
    ticker = tk.Ticker(lambda: ran.append(1), lambda: 600.0)
    assert ticker.start()
    try:
        with pytest.raises(queue.Empty):
            queue.Queue().get(timeout=0.5)
    finally:
        started = time.monotonic()
        ticker.stop()
        assert time.monotonic() - started < 5  # the thread waits on an event, not a sleep
    assert ran == []


def test_the_ticker_leaves_a_taken_sigurg_alone():
    def theirs(signum, frame):
        pass

    previous = signal.signal(tk.WAKE, theirs)
    try:
        ticker = tk.Ticker(lambda: None, lambda: 0.0)
        assert not ticker.start()
        ticker.stop()
        assert signal.getsignal(tk.WAKE) is theirs
    finally:
        signal.signal(tk.WAKE, previous)


def frames(*modules):
    """A chain of stand-in frames, innermost first."""
    frame = None
    for name in reversed(modules):
        frame = SimpleNamespace(f_globals={"__name__": name}, f_back=frame)
    return frame


def test_it_writes_only_when_the_main_thread_waits_with_no_output_under_way():
    assert tk.waiting(frames("threading", "queue", "xdist.dsession", "_pytest.main"))
    assert tk.waiting(frames("queue", "xdist.dsession"))
    assert not tk.waiting(frames("xdist.dsession", "_pytest.main"))  # busy handling an event
    assert not tk.waiting(frames("threading", "_pytest.terminal", "xdist.dsession"))  # in pytest's output
    assert not tk.waiting(frames("threading", "_pytest._io.terminalwriter"))
    assert not tk.waiting(frames("threading", "pytest_usacloud_sandbox.report.progress"))
    assert not tk.waiting(None)
