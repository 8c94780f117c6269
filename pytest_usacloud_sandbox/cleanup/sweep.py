"""``--usacloud-sweep[=HOURS]``: remove what earlier runs left, and run no script.

Every resource kind that takes tags is listed once (zoned ones in tk1v; global ones only under
``--usacloud-allow-global-writes``), and what carries a run tag of this plugin
(``usacloud-run=YYMMDDhhmmss-xxxxxx``) older than HOURS is deleted, in the teardown's order and
through the same calls (token bucket, 429 retries, timeout, records). Nothing else is touched: not
a resource without such a tag, not a younger run's (a run may still be going), not this run's.
Resources that take no tags cannot be found this way; the summary says so.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from ..record.cleanup import CleanupRecord
from ..report import github
from ..run.execute import Engine
from ..settings import Settings
from ..usacloud.mask import Masker
from . import plan as pl
from . import resources
from .printed import Listed
from .runid import RunId, tag_time
from .teardown import Deadline, Teardown

if TYPE_CHECKING:
    from ..report.runlog import RunLog

SECTION = "usacloud sweep"
UNTAGGED = "bridges, packet filters, IPv6 addresses, SSH keys and licenses take no tags: a sweep cannot find them"


class Sweep:
    """Registered on every process of a sweep: no item runs; the controller sweeps at the end."""

    def __init__(self, settings: Settings, engine: Engine, runlog: RunLog | None, run: RunId) -> None:
        self.settings = settings
        self.engine = engine
        self.runlog = runlog
        self.run = run
        self.summary = CleanupRecord("sweep", run.tag)
        self.tags: dict[str, str] = {}  # resource ID -> the old run tag it carries
        self.cutoff: datetime | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items) -> None:
        if items:
            config.hook.pytest_deselected(items=list(items))
            items[:] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.runlog is None:
            return
        try:
            self.sweep(datetime.now(UTC))
        except KeyboardInterrupt:
            self.summary.interrupted = self.summary.interrupted or "interrupted (a second Ctrl-C or SIGTERM)"
        finally:
            self.runlog.phase = None
            self.runlog.cleanup = self.summary.freeze()
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if self.summary.left else pytest.ExitCode.OK

    def sweep(self, now: datetime) -> CleanupRecord:
        hours = self.settings.sweep or 0.0
        self.cutoff = now - timedelta(hours=hours)
        kinds = [k for k in resources.taggable() if self.settings.allow_global_writes or not resources.is_global(k)]
        plan = pl.Plan((), listings=kinds)

        def progress(done: int, total: int) -> None:
            if self.runlog is not None:
                self.runlog.phase = f"sweeping ({done}/{total} calls)"

        stop = Deadline(self.settings.cleanup_timeout)
        masker = Masker.from_sources(self.engine.base_env)
        teardown = Teardown(self.engine, self.engine.env_for(None), masker, stop, progress)
        return teardown.run(plan, self.summary, keep=self.old)

    def old(self, item: Listed) -> bool:
        """Whether ``item`` carries a run tag of this plugin from before the cutoff (not this run's)."""
        for tag in item.tags:
            when = tag_time(tag)
            if when is not None and tag != self.run.tag and self.cutoff is not None and when < self.cutoff:
                self.tags[item.id] = tag
                return True
        return False

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.runlog is None:
            return
        tr = terminalreporter
        tr.section(SECTION)
        hours = self.settings.sweep or 0.0
        tr.line(f"sweep: run tags older than {hours:g}h: " + self.summary.line().removeprefix("cleanup: "))
        for resource in self.summary.resources:
            tag = self.tags.get(resource.id or "", "")
            why = resource.reason or (f"tagged {tag}" if tag else "")
            tr.line(f"  {resource.result}: {resource.type} {resource.id or ''} {resource.name!r} {why}".rstrip())
        tr.line(f"  not swept: {UNTAGGED}")
        left = self.summary.leftovers
        if left and github.enabled(self.settings.github, os.environ):
            tr.line(github.warning("usacloud sweep", f"{len(left)} resources left", os.environ))
