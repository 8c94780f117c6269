"""The records of the scripts whose reports pytest is logging, held from their item to their teardown.

pytest keeps every item and report for the whole session, so neither holds a script's record (10,000
scripts add up): it lives here while its reports are logged. The item puts it (:meth:`InFlight.put`),
the call report's hooks read it (:meth:`InFlight.get`; xdist's serialization sends it up with the
report, and the controller puts it here under the worker's id), the teardown report drops it.
"""

from __future__ import annotations

import threading
from collections import deque

from .script import ScriptRecord


class InFlight:
    """Records by (worker id, node id); the worker id is None on the process that ran the script. A
    node id that runs again on a worker before the controller has logged its first run queues behind it."""

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
