"""Live progress on the controller: a status bar pinned to the terminal's bottom row, or plain lines.

On a terminal the bottom row is taken out of the scroll region (DECSTBM), so pytest's own output
scrolls above it untouched; each update is one write that saves the cursor, draws the bottom row
and restores the cursor. Without a terminal (CI logs) one whole line is written every `interval`
seconds, never more often, and only when pytest's current line is empty, so a progress line never
lands in the middle of pytest's row of dots (it waits for the row to end).

Why this writer is not the TerminalReporter: everything else the plugin prints goes through pytest's
TerminalReporter from the main thread, but the main thread is busy for minutes at a time (running
a script in a lone process, or blocked on xdist's event queue), and the status must move while it
is. So a daemon thread draws it, through its own duplicate of the terminal's file descriptor taken
at start(), which also keeps it reaching the terminal while pytest captures fd 1 around a test in a
lone process. The thread only reads the run log (under its lock) and never calls pytest.

Time comes from an injectable clock: tests drive :meth:`Progress.tick` with a fake clock and do
not sleep.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable

from .runlog import RunLog

ESC = "\x1b"
SAVE, RESTORE = ESC + "7", ESC + "8"
TTY_REFRESH = 0.5  # seconds between redraws of the status bar (at least once a second)
MIN_ROWS = 3  # smaller terminals get no bar
LINE_START_POLL = 0.1  # seconds between looks at pytest's line while a plain line waits for it to end


def _mode(mode: str, isatty: bool) -> str:
    """'bar', 'lines' or 'off'."""
    if mode == "off":
        return "off"
    if isatty and (mode == "on" or os.environ.get("TERM", "") != "dumb"):
        return "bar"
    return "lines"


class Progress:
    def __init__(
        self,
        runlog: RunLog,
        stream,
        isatty: bool,
        mode: str,
        interval: float,
        read_worker_stats: Callable[[], dict],
        line_start: Callable[[], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ):
        self.runlog = runlog
        self.stream = stream
        self.kind = _mode(mode, isatty)
        self.interval = max(float(interval), 0.01)
        self.read_worker_stats = read_worker_stats
        self.line_start = line_start  # optional: False while pytest's current line is unfinished
        self.clock = clock  # monotonic seconds: when to write
        self.wall = wall  # wall-clock seconds: what the line says (elapsed, ETA)
        self._fd: int | None = None
        self._rows = 0
        self._cols = 80
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._broken = False
        self._lock = threading.Lock()
        self._last = 0.0
        self._started = False

    # -- life cycle ---------------------------------------------------------------------------

    def start(self, thread: bool = True) -> None:
        """Take the descriptor, set up the bar, and (unless ``thread`` is False: tests) start drawing."""
        if self.kind == "off" or self._started:
            return
        self._started = True
        self._last = self.clock()
        try:
            self._fd = os.dup(self.stream.fileno())
        except (AttributeError, OSError, ValueError):
            self._fd = None  # no descriptor (a StringIO): plain lines through the stream
            if self.kind == "bar":
                self.kind = "lines"
        if self.kind == "bar":
            self._rows, self._cols = self._size()
            if self._rows < MIN_ROWS:
                self.kind = "lines"
            else:
                # IND then RI keeps the cursor's column and, if it sat on the bottom row, scrolls one
                # line up so the cursor ends inside the new region; DECSTBM homes the cursor, hence 7/8.
                self._write(f"{ESC}D{ESC}M{SAVE}{ESC}[1;{self._rows - 1}r{RESTORE}")
                self._draw()
        if thread:
            self._thread = threading.Thread(target=self._loop, name="usacloud-progress", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            thread.join(timeout=5)
        with self._lock:
            if self.kind == "bar" and self._rows:
                self._write(f"{SAVE}{ESC}[r{ESC}[{self._rows};1H{ESC}[2K{RESTORE}")
            if self._fd is not None:
                try:
                    os.close(self._fd)
                except OSError:
                    pass
                self._fd = None

    # -- the thread ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._broken:
            if self._stop.wait(self.next_delay()):
                return
            with self._lock:
                if self._stop.is_set():
                    return
                self.tick()

    def next_delay(self) -> float:
        """Seconds until the next tick is worth making."""
        if self.kind == "bar":
            return min(TTY_REFRESH, self.interval)
        remaining = self._last + self.interval - self.clock()
        return remaining if remaining > 0 else LINE_START_POLL  # due: waiting for pytest's line to end

    def tick(self) -> bool:
        """Draw the bar, or write a plain line if one is due and pytest's line is empty. True if written."""
        if self._broken or self.kind == "off":
            return False
        if self.kind == "bar":
            self._draw()
            return True
        now = self.clock()
        if now - self._last < self.interval or not self._at_line_start():
            return False
        self._last = now
        self._write(self._text() + "\n")
        return True

    def _at_line_start(self) -> bool:
        if self.line_start is None:
            return True
        try:
            return bool(self.line_start())
        except Exception:
            return True

    def _text(self, width: int | None = None) -> str:
        try:
            self.runlog.live_stats(self.read_worker_stats() or {})
        except Exception:
            pass
        return self.runlog.status_line(self.wall(), width)

    def _draw(self) -> None:
        rows, cols = self._size()
        prefix = ""
        if (rows, cols) != (self._rows, self._cols) and rows >= MIN_ROWS:
            # Resized: clear the old bar and set the region again.
            prefix = f"{ESC}[{self._rows};1H{ESC}[2K{ESC}[1;{rows - 1}r"
            self._rows, self._cols = rows, cols
        width = max(1, self._cols - 1)
        text = self._text(width)[:width]
        self._write(f"{SAVE}{prefix}{ESC}[{self._rows};1H{ESC}[2K{ESC}[0m{text}{RESTORE}")

    def _size(self) -> tuple[int, int]:
        try:
            size = os.get_terminal_size(self._fd) if self._fd is not None else None
        except OSError:
            size = None
        if size is None or size.lines <= 0 or size.columns <= 0:
            size = shutil.get_terminal_size((80, 24))
        return size.lines, size.columns

    def _write(self, text: str) -> None:
        """One write per update, so nothing else lands in the middle of it."""
        if self._broken:
            return
        try:
            if self._fd is not None:
                data = text.encode("utf-8", "replace")
                while data:
                    written = os.write(self._fd, data)
                    data = data[written:]
            else:
                self.stream.write(text)
                self.stream.flush()
        except (OSError, ValueError):
            self._broken = True  # the terminal went away: stop drawing, never fail the run
