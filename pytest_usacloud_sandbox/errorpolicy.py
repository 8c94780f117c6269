"""Error policies: whether one script's failure stops the others (continue, stop, critical).

A plugin object registered per process. The process that ran the script decides (a worker, or a
lone process), so the stop is requested within milliseconds of the failure; the xdist controller
only relays reports, except a worker crash, which only the controller sees
(``pytest_handlecrashitem``). Where the stop and the failure count live, and how they reach every
worker on every host, is :class:`~.state.shared.SharedState`'s business.
"""

from __future__ import annotations

import pytest

from .record.inflight import InFlight
from .record.vocabulary import CRITICAL_CLASSES
from .state.shared import INTERRUPTED, SharedState
from .state.stop import StopReason

CRITICAL_MARKER = "usacloud_critical"


class ErrorPolicy:
    def __init__(
        self, config: pytest.Config, policy: str, maxfail: int, state: SharedState, records: InFlight | None = None
    ) -> None:
        self.config = config
        self.policy = policy
        self.maxfail = maxfail
        self.state = state
        # the failed script's record, on the process that ran it (None: none to read, as for a crashed worker)
        self.records = records

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" or not report.failed:
            return
        if self.config.pluginmanager.getplugin("dsession") is not None:
            return  # the xdist controller relays a worker's report: that worker decided already
        self._decide(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched) -> None:
        """A worker died while running ``crashitem``: the controller decides for it."""
        self._decide(report)

    def _decide(self, report: pytest.TestReport) -> None:
        reason = self.decide(report)
        if reason is None:
            return
        if self.policy == "stop":
            self.state.note_failure(reason, self.maxfail)
        else:
            self.state.request_stop(reason)

    def decide(self, report: pytest.TestReport) -> StopReason | None:
        """The reason this failure would stop the run under the policy (None: it does not)."""
        record = self.records.get(report) if self.records is not None else None
        cls = str(record.cls or "failed") if record is not None else "failed"
        message = (record.message if record is not None else "")[:300]
        if self.policy == "stop":
            return StopReason(report.nodeid, cls, message or "failed")
        if self.policy == "critical":
            if cls in CRITICAL_CLASSES:
                return StopReason(report.nodeid, cls, message)
            if CRITICAL_MARKER in report.keywords:
                return StopReason(report.nodeid, f"{CRITICAL_MARKER}, {cls}", message)
        return None

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        self.state.request_stop(INTERRUPTED)
        self.state.children.terminate_all()
