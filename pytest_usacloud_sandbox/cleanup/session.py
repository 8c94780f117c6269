"""Cleanup in a pytest session: the hooks on every process's Engine, the per-script teardown under
``--usacloud-cleanup=script``, and on the controller the run's teardown and its summary lines.

The run's teardown runs in ``pytest_sessionfinish`` on the process that owns the terminal, which reads
the run's journal of what every worker made; pytest calls that hook after a stop, ``-x``, Ctrl-C and
SIGTERM too, so the teardown runs then; a second interrupt ends it (:mod:`.teardown`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pytest

from ..record.cleanup import CleanupRecord, ResourceRecord
from ..record.inflight import InFlight
from ..record.vocabulary import ResourceResult
from ..run.execute import Engine
from ..settings import Settings
from ..state.shared import SharedState
from ..usacloud.mask import Masker
from . import plan as pl
from . import resources
from .hooks import CleanupHooks
from .runid import RunId
from .teardown import Deadline, Teardown

if TYPE_CHECKING:  # the report's modules are the terminal's process's: workers do not load them
    from ..report.runlog import RunLog

DISCARD_NOTE = "its fake store is on another host and went with that worker's run directory"


def install(
    config: pytest.Config,
    settings: Settings,
    state: SharedState,
    engine: Engine,
    records: InFlight,
    runlog: RunLog | None,
):
    """Give ``engine`` the cleanup hooks; register the per-script teardown (``script``) and, on the
    controller (``runlog`` given), the run's teardown and its reporting. ``records``: the scripts'
    records in flight on this process (each script's teardown goes into its record)."""
    run = RunId(state.run_id) if state.run_id else RunId.new()
    engine.cleanup = CleanupHooks(
        run, settings.cleanup, settings.allow_dangerous_any, state.note_created, state.created, state.worker
    )
    if settings.dry_run:
        return
    if settings.sweep is not None:
        from .sweep import Sweep

        config.pluginmanager.register(Sweep(settings, engine, runlog, run), "usacloud-sweep")
        return
    if settings.cleanup == "script":
        config.pluginmanager.register(ScriptTeardown(settings, engine, records), "usacloud-script-cleanup")
    if runlog is not None:
        config.pluginmanager.register(RunTeardown(config, settings, state, engine, records, runlog), "usacloud-cleanup")


def _teardown(engine: Engine, settings: Settings, env: dict, plan: pl.Plan, summary: CleanupRecord, progress=None):
    stop = Deadline(settings.cleanup_timeout)
    masker = Masker.from_sources(engine.base_env)
    return Teardown(engine, env, masker, stop, progress).run(plan, summary)


class ScriptTeardown:
    """``--usacloud-cleanup=script``: a script's resources removed right after it, on the process that
    ran it (in fake mode on the script's own store); reported in its record, never failing it."""

    def __init__(self, settings: Settings, engine: Engine, records: InFlight) -> None:
        self.settings = settings
        self.engine = engine
        self.records = records

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        """After the script, passed or not; not on Ctrl-C (the run's teardown at the end takes over)."""
        try:
            result = yield
        except KeyboardInterrupt:
            raise
        except BaseException:
            self._after(item)
            raise
        self._after(item)
        return result

    def _after(self, item: pytest.Item) -> None:
        record = self.records.running(item.nodeid)
        if record is not None:
            record.cleanup = self.after(item.nodeid)

    def after(self, nodeid: str) -> CleanupRecord | None:
        hooks = self.engine.cleanup
        entries = hooks.take(nodeid)
        if not entries:
            return None
        plan = pl.make(entries, hooks.tags(nodeid), self.settings.allow_global_writes)
        summary = CleanupRecord("script", hooks.run.tag)
        env = self.engine.env_for(nodeid, fresh=False)
        return _teardown(self.engine, self.settings, env, plan, summary)


class RunTeardown:
    """The controller's part: the run's teardown, its summary lines, report section and warning."""

    def __init__(
        self, config, settings: Settings, state: SharedState, engine: Engine, records: InFlight, runlog: RunLog
    ) -> None:
        self.config = config
        self.settings = settings
        self.state = state
        self.engine = engine
        self.records = records
        self.runlog = runlog
        self.hooks: CleanupHooks = engine.cleanup
        self.summary = CleanupRecord(settings.cleanup, self.hooks.run.tag)
        self.entries: list[dict] = []
        self.cleaned: set[str] = set()  # scripts whose own teardown ran (--usacloud-cleanup=script)

    @pytest.hookimpl(optionalhook=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Under ``script`` cleanup each script's teardown comes with its record."""
        record = self.records.get(report) if report.when == "call" else None
        done = record.cleanup if record is not None else None
        if done is not None:
            self.cleaned.add(report.nodeid)
            self.summary.resources += done.resources
            self.summary.seconds += done.seconds
            self.summary.interrupted = self.summary.interrupted or done.interrupted

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session):
        """The teardown, first of all: the report (written by the run's reporter as the session
        finishes) carries its results, and the run directory is still there."""
        self._finish()
        if self.failing() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return (yield)

    def failing(self) -> list[ResourceRecord]:
        """What the run created and the teardown left: it fails the session (not under
        ``--usacloud-allow-leftovers``); a tagged resource no create of the run made is not counted."""
        if self.settings.allow_leftovers:
            return []
        return [r for r in self.summary.leftovers if r.reason != pl.NOT_MADE]

    def _finish(self) -> None:
        self.entries = pl.merge(self.state.created())
        try:
            if self.settings.cleanup == "off":
                self.summary.resources += _kept(self.entries)
            elif self.entries:
                self._run_teardown()
        except KeyboardInterrupt:  # between two calls: the calls that did not run are not listed
            self.summary.interrupted = self.summary.interrupted or "interrupted (a second Ctrl-C or SIGTERM)"
        finally:
            self.runlog.phase = None
            self.runlog.cleanup = self.summary.freeze()

    def _run_teardown(self) -> None:
        def progress(done: int, total: int) -> None:
            self.runlog.phase = f"cleaning up ({done}/{total} calls)"

        self.runlog.phase = "cleaning up"
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:  # its own line (the live progress writes only at a line's start)
            if self.config.get_terminal_writer().width_of_current_line:
                tr.write("\n")  # ends pytest's row of dots ("[100%]")
            tr.write_line(f"usacloud: cleaning up what the run created (tagged {self.hooks.run.tag})")
        allow_global = self.settings.allow_global_writes
        tags = [self.hooks.run.tag]
        if not self.settings.fake:  # what a script's own teardown removed is not counted twice
            entries = [e for e in self.entries if str(e.get("script") or "") not in self.cleaned]
            plan = pl.make(entries, tags, allow_global)
            _teardown(self.engine, self.settings, self.engine.env_for(None), plan, self.summary, progress)
            return
        if self.settings.cleanup == "script":
            return  # each script's store was cleaned after it, and goes with the run directory
        for script, entries in _by_script(self.entries).items():  # each script's own fake store
            if not self.engine.fake_stores().path_for(script).exists():
                self.summary.resources += _kept(entries, ResourceResult.DISCARDED, DISCARD_NOTE)
                continue
            plan = pl.make(entries, tags, allow_global)
            env = self.engine.env_for(script, fresh=False)
            _teardown(self.engine, self.settings, env, plan, self.summary, progress)

    @pytest.hookimpl(trylast=True)  # after the run's summary lines, in its section
    def pytest_terminal_summary(self, terminalreporter, exitstatus) -> None:
        if not (self.summary.resources or self.summary.commands or self.summary.interrupted):
            return
        tr = terminalreporter
        for line in self.summary.lines(self.removal_hint()):
            tr.line(line)
        failing = self.failing()
        if failing:
            tr.line(
                f"cleanup failed the session: {len(failing)} resource(s) the run created left behind "
                "(exit code 1; --usacloud-allow-leftovers lets it pass)",
                red=True,
            )
        from ..report import github

        left = self.summary.leftovers
        if left and github.enabled(self.settings.github, os.environ):
            shown = "; ".join(o.describe() for o in left[:10])
            tr.line(github.warning("usacloud cleanup", f"{len(left)} resources left: {shown}", os.environ))

    def removal_hint(self) -> list[str]:
        """How to remove what carries the run's tag later: a delete by tag per kind it made, or a sweep."""
        tag = self.hooks.run.tag
        kinds = pl.make(self.entries, [tag], True).tagged
        lines = [" ".join(resources.delete_words(kind, tag)) for kind in kinds]
        by_id = [
            o
            for o in self.summary.resources
            if o.result in (ResourceResult.LEFT, ResourceResult.KEPT) and o.id and o.type not in kinds
        ]
        lines += [" ".join(resources.delete_words(o.type, o.id)) for o in by_id if resources.deletes_by_id(o.type)]
        lines.append("or, once it is older than HOURS: pytest --usacloud-sweep=HOURS (every run's leftovers)")
        return list(dict.fromkeys(lines))


def _by_script(entries: Iterable[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for entry in entries:
        grouped.setdefault(str(entry.get("script") or ""), []).append(entry)
    return grouped


def _kept(
    entries: Iterable[dict], result: ResourceResult = ResourceResult.KEPT, reason: str = ""
) -> list[ResourceRecord]:
    """One outcome per create that made (or may have made) something, when no teardown touches it."""
    out = []
    for entry in entries:
        if entry.get("state") == "failed":
            continue
        tags = ", ".join(entry.get("tags") or ())
        why = reason or (f"kept, tagged {tags}" if tags else entry.get("reason") or "kept (it takes no tags)")
        resource, name, script = str(entry.get("resource")), str(entry.get("name") or ""), str(entry.get("script"))
        out += [ResourceRecord(resource, rid, name, None, result, why, script) for rid in entry.get("ids") or [None]]
    return out
