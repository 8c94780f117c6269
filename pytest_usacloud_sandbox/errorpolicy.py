"""Error policies: whether one script's failure stops the others (continue, stop, critical).

A plugin object registered per process. It decides where the script ran (the worker, or a lone
process), so the stop signal is written within milliseconds of the failure; the xdist controller
only relays reports, except a worker crash, which only the controller sees.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .state.children import Children
from .state.stop import StopReason, StopSignal
from .usacloud import outcome

CRITICAL_MARKER = "usacloud_critical"


class ErrorPolicy:
    def __init__(
        self, config: pytest.Config, policy: str, maxfail: int, stop: StopSignal, run_dir: Path, children: Children
    ) -> None:
        self.config = config
        self.policy = policy
        self.maxfail = maxfail
        self.stop = stop
        self.run_dir = run_dir
        self.children = children

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when not in ("call", "???") or not report.failed:  # "???": xdist's report of a crashed worker
            return
        relayed = self.config.pluginmanager.getplugin("dsession") is not None
        if relayed and "crashed while running" not in report.longreprtext:
            return  # the worker that ran it decided already
        reason = self.decide(report)
        if reason is not None:
            self.stop.trigger(reason)

    def decide(self, report: pytest.TestReport) -> StopReason | None:
        data = getattr(report, "usacloud", None) or {}
        cls = data.get("cls") or "failed"
        message = (data.get("message") or "")[:300]
        if self.policy == "stop":
            if self._count_failure(report.nodeid) >= max(1, self.maxfail):
                return StopReason(report.nodeid, cls, message or "failed")
        elif self.policy == "critical":
            if cls in outcome.CRITICAL_CLASSES:
                return StopReason(report.nodeid, cls, message)
            if CRITICAL_MARKER in report.keywords:
                return StopReason(report.nodeid, f"{CRITICAL_MARKER}, {cls}", message)
        return None

    def _count_failure(self, nodeid: str) -> int:
        """Failures of the whole run so far (every worker appends to one file)."""
        path = self.run_dir / "failures"
        with open(path, "a") as fh:
            fh.write(nodeid.replace("\n", " ") + "\n")
        with open(path) as fh:
            return sum(1 for _ in fh)

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        self.stop.trigger(StopReason("(interrupt)", "interrupted", "Ctrl-C or SIGTERM"))
        self.children.terminate_all()
