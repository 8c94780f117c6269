"""Live progress on the controller: a status bar pinned to the terminal's bottom row, or plain lines.

Written through pytest's TerminalReporter on the main thread only (:meth:`Progress.tick`: from the
hooks, from a lone process's waits, and from xdist's event loop woken by :mod:`.ticker`). On a terminal
the bottom row is taken out of the scroll region (DECSTBM) and redrawn in place; without one (CI logs)
a line of its own every ``interval`` seconds. Tests drive it with a fake clock and terminal.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable

import pytest

from .runlog import RunLog
from .statusline import fit_words
from .ticker import Ticker

ESC = "\x1b"
SAVE, RESTORE = ESC + "7", ESC + "8"
TTY_REFRESH = 0.5  # seconds between redraws of the status bar (at least once a second)
MIN_ROWS = 3  # smaller terminals get no bar


def _mode(mode: str, isatty: bool) -> str:
    """'bar', 'lines' or 'off'."""
    if mode == "off":
        return "off"
    if isatty and (mode == "on" or os.environ.get("TERM", "") != "dumb"):
        return "bar"
    return "lines"


class ReporterTerminal:
    """pytest's terminal as progress writes to it: through the TerminalReporter, with pytest's
    capture suspended meanwhile (a lone process runs its scripts inside pytest's capture), as
    pytest's own live logging does."""

    def __init__(self, config: pytest.Config, stream) -> None:
        """``stream``: the terminal's file (sys.stdout between tests, when pytest does not capture it)."""
        self.reporter = config.pluginmanager.get_plugin("terminalreporter")
        self.writer = config.get_terminal_writer()
        self.capture = config.pluginmanager.get_plugin("capturemanager")
        self.isatty = bool(getattr(self.reporter, "isatty", False))
        self._fd: int | None = None  # a copy of the terminal's descriptor, only to ask its size
        try:
            self._fd = os.dup(stream.fileno())
        except (AttributeError, OSError, ValueError):
            self._fd = None

    def line(self, text: str) -> None:
        """``text`` as a line of its own: pytest's unfinished line (a row of dots) is ended first."""
        with self._uncaptured():
            self.reporter.ensure_newline()
            if self.writer.width_of_current_line:
                self.reporter.write("\n")
            self.reporter.write_line(text)
            self.reporter.flush()

    def raw(self, text: str) -> None:
        """Escape sequences that leave the cursor where it was (not counted in pytest's line width)."""
        with self._uncaptured():
            self.reporter.write_raw(text, flush=True)

    def size(self) -> tuple[int, int]:
        """Rows and columns of the terminal."""
        try:
            size = os.get_terminal_size(self._fd) if self._fd is not None else None
        except OSError:
            size = None
        if size is None or size.lines <= 0 or size.columns <= 0:
            size = shutil.get_terminal_size((80, 24))
        return size.lines, size.columns

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def _uncaptured(self):
        if self.capture is None:
            return _nothing()
        return self.capture.global_and_fixture_disabled()


class Progress:
    """The bar or the lines. A draw saves the cursor, draws the bottom row and restores the cursor,
    leaving pytest's count of its current line's width alone; a line first ends a row of dots, and
    pytest goes on with a new row."""

    def __init__(
        self,
        runlog: RunLog,
        terminal,
        mode: str,
        interval: float,
        read_worker_stats: Callable[[], dict],
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ):
        self.runlog = runlog
        self.terminal = terminal  # ReporterTerminal, or a test's stand-in with line/raw/size/isatty
        self.kind = _mode(mode, bool(getattr(terminal, "isatty", False)))
        self.interval = max(float(interval), 0.01)
        self.read_worker_stats = read_worker_stats
        self.clock = clock  # monotonic seconds: when to write
        self.wall = wall  # wall-clock seconds: what the line says (elapsed, ETA)
        self.written = 0  # lines or draws so far
        self._rows = 0
        self._cols = 80
        self._last = 0.0
        self._started = False
        self._broken = False

    @property
    def active(self) -> bool:
        return self._started and not self._broken and self.kind != "off"

    def start(self) -> None:
        """Set up the bar (the first line waits for the first interval)."""
        if self.kind == "off" or self._started:
            return
        self._started = True
        self._last = self.clock()
        if self.kind == "bar":
            self._rows, self._cols = self.terminal.size()
            if self._rows < MIN_ROWS:
                self.kind = "lines"
            else:
                # IND then RI keeps the cursor's column and, if it sat on the bottom row, scrolls one
                # line up so the cursor ends inside the new region; DECSTBM homes the cursor, hence 7/8.
                self._write(self.terminal.raw, f"{ESC}D{ESC}M{SAVE}{ESC}[1;{self._rows - 1}r{RESTORE}")
                self._draw()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        if self.kind == "bar" and self._rows:
            self._write(self.terminal.raw, f"{SAVE}{ESC}[r{ESC}[{self._rows};1H{ESC}[2K{RESTORE}")

    def next_delay(self) -> float:
        """Seconds until the next line or draw is due (0: due now)."""
        period = TTY_REFRESH if self.kind == "bar" else self.interval
        return max(0.0, self._last + period - self.clock())

    def tick(self) -> bool:
        """On the main thread: draw the bar or write a line if one is due. True if written."""
        if not self.active or self.next_delay() > 0:
            return False
        self._last = self.clock()
        if self.kind == "bar":
            self._draw()
        else:
            self._write(self.terminal.line, self._text())
        return not self._broken

    def _text(self, width: int | None = None) -> str:
        try:
            self.runlog.live_stats(self.read_worker_stats() or {})
        except Exception:
            pass
        return self.runlog.status_line(self.wall(), width)

    def _draw(self) -> None:
        rows, cols = self.terminal.size()
        prefix = ""
        if (rows, cols) != (self._rows, self._cols) and rows >= MIN_ROWS:
            # Resized: clear the old bar and set the region again.
            prefix = f"{ESC}[{self._rows};1H{ESC}[2K{ESC}[1;{rows - 1}r"
            self._rows, self._cols = rows, cols
        width = max(1, self._cols - 1)
        text = fit_words(self._text(width), width)
        self._write(self.terminal.raw, f"{SAVE}{prefix}{ESC}[{self._rows};1H{ESC}[2K{ESC}[0m{text}{RESTORE}")

    def _write(self, write: Callable[[str], None], text: str) -> None:
        if self._broken:
            return
        try:
            write(text)
            self.written += 1
        except (OSError, ValueError):
            self._broken = True  # the terminal went away: stop drawing, never fail the run


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class LiveProgress:
    """Progress on pytest's terminal and what makes it tick: the hooks (:meth:`tick`), and either
    the loops in which a lone process waits (``poll`` is given the tick) or, for an xdist
    controller, a :class:`~.ticker.Ticker` that wakes the main thread while it waits for workers."""

    def __init__(
        self,
        config: pytest.Config,
        stream,
        runlog: RunLog,
        mode: str,
        interval: float,
        read_worker_stats: Callable[[], dict],
        poll: Callable[[Callable[[], object] | None], None] | None,
    ) -> None:
        self.terminal = ReporterTerminal(config, stream)
        self.progress = Progress(runlog, self.terminal, mode, interval, read_worker_stats)
        self.poll = poll  # None: an xdist controller
        self.ticker: Ticker | None = None

    def start(self) -> None:
        self.progress.start()
        if not self.progress.active:
            return
        if self.poll is not None:
            self.poll(self.progress.tick)
        else:
            self.ticker = Ticker(self.progress.tick, self.progress.next_delay)
            if not self.ticker.start():
                self.ticker = None  # SIGURG is someone else's: progress at the hooks only

    def tick(self) -> None:
        self.progress.tick()

    def stop(self) -> None:
        if self.ticker is not None:
            self.ticker.stop()
            self.ticker = None
        if self.poll is not None:
            self.poll(None)
        self.progress.stop()
        self.terminal.close()
