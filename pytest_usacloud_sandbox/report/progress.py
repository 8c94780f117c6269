"""Live progress on the controller: a status bar pinned to the terminal's bottom row, or plain lines.

On a terminal the bottom row is taken out of the scroll region (DECSTBM), so pytest's own output
scrolls above it untouched; each update is one write that saves the cursor, draws the bottom row
and restores the cursor. Without a terminal (CI logs) one whole line is written every `interval`
seconds, never more often.

Output goes to a duplicate of the stream's file descriptor taken at start(), so it still reaches
the terminal while pytest captures fd 1 around a test in a lone process.
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
    ):
        self.runlog = runlog
        self.stream = stream
        self.kind = _mode(mode, isatty)
        self.interval = max(float(interval), 0.01)
        self.read_worker_stats = read_worker_stats
        self.line_start = line_start  # optional: False when the terminal's current line is unfinished
        self._fd: int | None = None
        self._rows = 0
        self._cols = 80
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._broken = False
        self._lock = threading.Lock()

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self.kind == "off" or self._thread is not None:
            return
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
        self._thread = threading.Thread(target=self._loop, name="usacloud-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
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
        period = min(TTY_REFRESH, self.interval) if self.kind == "bar" else self.interval
        last = time.monotonic()
        while not self._broken:
            # Wait until a whole period has passed since the last line (never more often).
            remaining = last + period - time.monotonic()
            while remaining > 0:
                if self._stop.wait(remaining):
                    return
                remaining = last + period - time.monotonic()
            if self._stop.is_set():
                return
            last = time.monotonic()
            with self._lock:
                if self._stop.is_set():
                    return
                if self.kind == "bar":
                    self._draw()
                else:
                    self._line()

    def _text(self) -> str:
        try:
            self.runlog.live_stats(self.read_worker_stats() or {})
        except Exception:
            pass
        return self.runlog.status_line(time.time())

    def _line(self) -> None:
        text = self._text() + "\n"
        if self.line_start is not None:
            try:
                if not self.line_start():
                    text = "\n" + text
            except Exception:
                pass
        self._write(text)

    def _draw(self) -> None:
        rows, cols = self._size()
        prefix = ""
        if (rows, cols) != (self._rows, self._cols) and rows >= MIN_ROWS:
            # Resized: clear the old bar and set the region again.
            prefix = f"{ESC}[{self._rows};1H{ESC}[2K{ESC}[1;{rows - 1}r"
            self._rows, self._cols = rows, cols
        text = self._text()[: max(1, self._cols - 1)]
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
