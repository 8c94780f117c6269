"""Wake the main thread when live progress is due, while it waits for xdist's workers.

An xdist controller's main thread is blocked in xdist's event loop until a worker reports, and a
script of a minute reports nothing for a minute. A timer thread here only signals the main thread
(SIGURG, ignored by default, as Go's runtime uses it); the handler writes the progress only when the
main thread was waiting in the standard library (:func:`waiting`), else the next signal or hook does.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

WAKE = signal.SIGURG
RETRY = 0.1  # seconds before signalling again when the main thread was busy
_WAITS = ("threading", "queue")
_BUSY = ("_pytest.terminal", "_pytest._io", "_pytest.capture", "pytest_usacloud_sandbox.report")


class Ticker:
    def __init__(self, tick: Callable[[], object], delay: Callable[[], float]) -> None:
        self.tick = tick  # on the main thread: write if due
        self.delay = delay  # seconds until something is due (0: now)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._main = threading.main_thread().ident
        self._previous = None

    def start(self) -> bool:
        """Install the handler and start the thread; False if SIGURG is taken or this is not the main thread."""
        if threading.current_thread() is not threading.main_thread() or signal.getsignal(WAKE) != signal.SIG_DFL:
            return False
        self._previous = signal.signal(WAKE, self._handle)
        self._thread = threading.Thread(target=self._loop, name="usacloud-progress-ticker", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)
        if self._previous is not None:
            if signal.getsignal(WAKE) == self._handle:
                try:
                    signal.signal(WAKE, self._previous)
                except ValueError:  # not the main thread
                    pass
            self._previous = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            delay = self.delay()
            if delay > 0:
                self._stop.wait(delay)
                continue
            try:
                signal.pthread_kill(self._main, WAKE)
            except (OSError, ValueError):
                return
            self._stop.wait(RETRY)

    def _handle(self, signum, frame) -> None:
        if self._stop.is_set() or not waiting(frame):
            return
        try:
            self.tick()
        except Exception:
            pass  # progress never fails the run


def waiting(frame) -> bool:
    """Whether the main thread was interrupted while it waited in the standard library, with no
    output of pytest's (nor progress) under way on its stack."""
    if frame is None or frame.f_globals.get("__name__") not in _WAITS:
        return False
    while frame is not None:
        if str(frame.f_globals.get("__name__", "")).startswith(_BUSY):
            return False
        frame = frame.f_back
    return True
