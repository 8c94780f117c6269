"""The records of the scripts whose reports pytest is logging, held from their item to their teardown.

pytest keeps every item and every report for the whole session, so neither holds a script's record
(10,000 scripts add up): the record lives here while its reports are logged, and nothing refers to
it after that.

On the process that runs a script, its item puts the record here as it starts (:meth:`put`) and
fills it; it is frozen as its call report is made; the hooks that log that report read it here
(:meth:`get`), xdist's serialization among them, which sends it with the report to the controller;
it is dropped as the item's teardown report is made (:meth:`drop`). The controller puts what
arrives here too, under the worker's id, where its own hooks read it, and drops it when that
worker's teardown report is logged. A node id that runs again on a worker before the controller
has logged its first run (a rerun) queues behind it.
"""

from __future__ import annotations

import threading
from collections import deque

from .script import ScriptRecord


class InFlight:
    """Records by (worker id, node id); the worker id is None on the process that ran the script."""

    def __init__(self) -> None:
        self._records: dict[tuple[str | None, str], deque[ScriptRecord]] = {}
        self._lock = threading.Lock()  # the controller puts what arrives on execnet's thread

    def put(self, record: ScriptRecord, worker: str | None = None) -> None:
        with self._lock:
            self._records.setdefault((worker, record.nodeid), deque()).append(record)

    def running(self, nodeid: str) -> ScriptRecord | None:
        """The record of a script this process runs (or ran, until its teardown is logged)."""
        return self._first((None, nodeid))

    def get(self, report) -> ScriptRecord | None:
        """The record of the script a report (pytest's, on this process or from a worker) is about."""
        return self._first(_key(report))

    def drop(self, report) -> None:
        with self._lock:
            queued = self._records.get(_key(report))
            if queued:
                queued.popleft()
            if not queued:
                self._records.pop(_key(report), None)
            if not self._records:  # a dict keeps the room it grew to: after a backlog, give it back
                self._records = {}

    def _first(self, key: tuple[str | None, str]) -> ScriptRecord | None:
        with self._lock:
            queued = self._records.get(key)
            return queued[0] if queued else None

    def __len__(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._records.values())


def _key(report) -> tuple[str | None, str]:
    """xdist gives the reports it receives the id of the worker that made them (``worker_id``)."""
    return getattr(report, "worker_id", None), report.nodeid
