"""SIGTERM and SIGHUP end a run as Ctrl-C does.

A CI runner's cancel sends SIGTERM; a closed terminal sends SIGHUP. Both raise KeyboardInterrupt on
the main thread, so pytest's own interrupt path runs: the error policy stops every script, the
running usacloud process groups are terminated, what finished is reported (the JSON report too)
and the run directory is removed. A handler goes only where the default action was (``nohup``'s
ignored SIGHUP stays ignored) and is taken back at the end of the session.
"""

from __future__ import annotations

import signal

HANDLED = (signal.SIGTERM, signal.SIGHUP)


class Interrupts:
    def __init__(self) -> None:
        self.installed: list[signal.Signals] = []

    def install(self) -> Interrupts:
        for signum in HANDLED:
            if signal.getsignal(signum) is signal.SIG_DFL:
                try:
                    signal.signal(signum, _raise_interrupt)
                except ValueError:  # not the main thread
                    continue
                self.installed.append(signum)
        return self

    def restore(self) -> None:
        """As it was: a later in-process run starts clean."""
        for signum in self.installed:
            if signal.getsignal(signum) is _raise_interrupt:
                try:
                    signal.signal(signum, signal.SIG_DFL)
                except ValueError:
                    pass
        self.installed = []


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)
