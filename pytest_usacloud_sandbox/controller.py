"""The controller's (or a lone process's) view of the run: progress, listings, summary, JSON report.

Registered as a plugin object by plugin.py on the process that owns the terminal; workers only
send their reports (a call report's data carries its script's record, which is in flight here
while its reports are logged: :class:`~.record.inflight.InFlight`) and their counters.
Everything printed goes through pytest's TerminalReporter from the main thread, the live
progress too (report/progress.py says how).
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import pytest

from .fakemode import stores as fakestores
from .items import FailureRepr, UsacloudItem
from .options import OPTIONS, raw
from .record.inflight import InFlight
from .record.preflight import Preflight
from .record.script import ScriptRecord
from .record.vocabulary import ResultClass, ScriptOutcome
from .report import github, junit, teststatus
from .report import progress as prog
from .report.reprs import command_list, printable, script_path
from .report.runlog import RunLog
from .report.summary import dry_run_lines, header_line
from .run.execute import Engine, WorkerStats
from .settings import Settings, xdist_workers
from .state.shared import SharedState
from .usacloud.mask import Masker, mask_url

SUMMARY_TITLE = "usacloud sandbox summary"
DRY_RUN_TITLE = "usacloud dry-run: what would run"


class RunReporter:
    def __init__(
        self,
        config: pytest.Config,
        settings: Settings,
        engine: Engine,
        state: SharedState,
        records: InFlight,
        backend: str,
        totals: WorkerStats,
    ) -> None:
        self.totals = totals  # every worker's counters, summed from workeroutput at the end
        self.config = config
        self.settings = settings
        self.engine = engine
        self.state = state
        self.records = records
        workers = xdist_workers(config)
        self.xdist = workers > 0
        self.runlog = RunLog(settings, state.home, time.time(), masked_options(config), backend, workers)
        self.progress: prog.LiveProgress | None = None
        self.interrupted = False
        self.finished = False
        self.cancelled: list[str] = []  # node ids
        self._version: tuple[str | None] | None = None  # usacloud's, once asked
        self.seen = False  # any usacloud script in this run
        self.nodeids: set[str] = set()  # every script that was reported
        self.preflight: Preflight | None = None  # once it ran (never in a dry-run)

    def run_preflight(self) -> Preflight:
        """Check usacloud and the credentials before any script runs (preflight/); a failed
        preflight's report is written now, since the session ends here."""
        from .preflight import call as preflight

        self.preflight = preflight.check(self.engine, self.config.invocation_params.dir, self.usacloud_version())
        if not self.preflight.ok:
            self.finish()
        return self.preflight

    def _ours(self, nodeid: str) -> bool:
        return script_path(nodeid, self.settings.script_glob) is not None

    # -- totals and starts --------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        if self.runlog.total is None:
            self.runlog.set_total(sum(1 for nodeid in ids if self._ours(nodeid)))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not self.xdist:
            self.runlog.set_total(sum(1 for item in session.items if isinstance(item, UsacloudItem)))

    def pytest_runtest_logstart(self, nodeid: str, location) -> None:
        if self._ours(nodeid):
            self.runlog.script_started(nodeid)
            self._start_progress()  # scripts collected anywhere show progress too
        if self.progress is not None:
            self.progress.tick()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        self._start_progress()

    def _start_progress(self) -> None:
        if self.progress is not None or self.finished or self.config.option.collectonly:
            return
        if self.config.pluginmanager.get_plugin("terminalreporter") is None:
            return
        self.progress = prog.LiveProgress(
            self.config,
            sys.stdout,  # the terminal (capture is suspended between tests)
            self.runlog,
            self.settings.progress,
            self.settings.progress_interval,
            self.state.counters,
            poll=None if self.xdist else self._poll,
        )
        self.progress.start()

    def _poll(self, tick) -> None:
        self.engine.on_poll = tick  # a lone process: its waits for commands tick the progress

    # -- results ------------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport):
        ours = self._ours(report.nodeid)
        if ours and report.failed:
            FailureRepr.wrap(report)  # a worker's failure text came as a string: give pytest its message
        result = yield
        if ours:
            self._record(report)
        if self.progress is not None:
            self.progress.tick()
        return result

    def _record(self, report: pytest.TestReport) -> None:
        self.nodeids.add(report.nodeid)
        if report.when == "call":
            self.seen = True
            record = self.records.get(report)
            outcome = record.outcome if record is not None else teststatus.outcome(report, None)
            self.runlog.script_finished(report.nodeid, outcome, record, _text(report))
            if outcome == ScriptOutcome.CANCELLED:
                self.cancelled.append(report.nodeid)
            self._show_commands(record)
        elif report.when in ("setup", "???") and not report.passed:  # "???": a worker crashed while running it
            self.seen = True
            self.runlog.script_finished(report.nodeid, teststatus.outcome(report, None), None, _text(report))
        elif report.when == "teardown" and hasattr(report, "worker_id"):
            self.records.drop(report)  # a worker's script: logged (the worker dropped its own)

    def _show_commands(self, record: ScriptRecord | None) -> None:
        """With -v, each command's status under its script."""
        if record is None or self.config.option.verbose < 1:
            return
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is None:
            return
        tr.ensure_newline()
        for line in command_list(record, indent="    "):
            tr.write_line(printable(line))

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        self.interrupted = True

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session):
        self.finish()  # before the run directory goes (the plugin's own sessionfinish)
        if self.cancelled and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.INTERRUPTED  # the run did not finish: never a pass
        result = yield
        teststatus.remember_cancelled(self.config, self.cancelled)  # after the cache plugin saved its list
        return result

    def finish(self) -> None:
        if self.finished:  # a failed preflight wrote the report already
            return
        self.finished = True
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.settings.report is None:
            self.runlog.close()
            return
        reason = self.engine.stop.reason()
        version = self.usacloud_version()
        try:
            self.runlog.write_report(
                self.settings.report,
                time.time(),
                self.interrupted or reason is not None,
                reason.describe() if reason else None,
                version,
                self.preflight,
            )
        except OSError as exc:
            warnings.warn(f"--usacloud-report: could not write {self.settings.report}: {exc}", stacklevel=1)

    def pytest_report_header(self, config: pytest.Config) -> str:
        return header_line(self.settings, self.engine.usacloud_bin, self.usacloud_version(), self.runlog.backend)

    def usacloud_version(self) -> str | None:
        """``usacloud version``, asked once (a process start, with a timeout); never in a dry-run."""
        if self._version is None:
            version = None
            if not self.settings.dry_run:
                version = self.engine.usacloud_version()
            self._version = (version,)
        return self._version[0]

    def pytest_terminal_summary(self, terminalreporter, exitstatus) -> None:
        if not (self.seen or self.runlog.total) or exitstatus == pytest.ExitCode.USAGE_ERROR:
            return
        tr = terminalreporter
        reason = self.engine.stop.reason()
        stop_reason = printable(reason.describe()) if reason else None
        ended = time.time()
        if self.settings.dry_run:
            tr.section(DRY_RUN_TITLE)
            for line in dry_run_lines(self.runlog.entries(), self.runlog.where):
                tr.line(line)
        tr.section(SUMMARY_TITLE)
        # pytest's short summary lists each failure with its message: no second list here.
        list_failed = tr.no_summary or not tr.hasopt("f")
        for line in self.runlog.summary_lines(ended, stop_reason, list_failed):
            tr.line(line)
        limiter = self._limiter_line()
        tr.line(limiter)
        if self.preflight is not None:
            tr.line(printable(self.preflight.describe()))
        elif not (self.settings.preflight or self.settings.dry_run):
            tr.line("preflight: off (--no-usacloud-preflight)")
        if self.settings.fake:
            tr.line(self._fake_line())
        if self.settings.report is not None:
            tr.line(f"report: {self.settings.report}")
        if self.cancelled and exitstatus == pytest.ExitCode.OK:
            tr.line(
                f"exit status {int(pytest.ExitCode.INTERRUPTED)} (interrupted): {len(self.cancelled)} scripts were "
                "cancelled by a stop, and nothing failed in this run"
            )
        if github.enabled(self.settings.github, os.environ):
            self._github(tr, ended, stop_reason, limiter)

    def _github(self, tr, ended: float, stop_reason: str | None, limiter: str) -> None:
        for line in github.annotations(self.runlog, self.config.rootpath, os.environ):
            tr.line(line)
        text = github.step_summary(self.runlog, ended, stop_reason, limiter, os.environ)
        error = github.append_step_summary(text, os.environ)
        if error:
            tr.line(f"usacloud: {error}")

    def _limiter_line(self) -> str:
        if self.settings.dry_run:
            return "limiter: not used (dry-run)"
        if self.settings.rate == float("inf"):
            return "limiter: off (--usacloud-rate=unlimited)"
        t = self.totals
        wait = f"{t.token_wait / t.tokens:.2f}s mean per token" if t.tokens else "-"
        return (
            f"limiter: {self.runlog.backend} at {self.settings.rate:g}/s, burst {self.settings.burst} "
            f"| tokens {t.tokens} | attempts {t.attempts} | 429 retries {t.retries} | token wait {wait}"
        )

    def _fake_line(self) -> str:
        """Fake mode: the credentials, the store seeding, the timeout, the hangs counted as done."""
        if self.settings.dry_run:
            return "fake mode: dummy credentials (every usacloud command would get dummy keys and no profile)"
        parts = ["fake mode: dummy credentials"]
        seeded = fakestores.read_info(self.state.home)
        if seeded is not None:
            parts.append(seeded.describe())
        hangs = self.runlog.by_class.get(ResultClass.FAKE_HANG, 0)
        parts.append(f"timeout {self.settings.fake_timeout:g}s per command")
        parts.append(
            f"fake-mode hangs: {hangs}"
            + (" (timed out after their effect was visible; counted as done)" if hangs else "")
        )
        limits = self.runlog.by_class.get(ResultClass.FAKE_LIMIT, 0)
        parts.append(
            f"fake-driver limits: {limits}"
            + (" (commands usacloud's fake driver cannot do: their scripts are skipped, not failed)" if limits else "")
        )
        return " | ".join(parts)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.progress is not None:
            self.progress.stop()
        xml_path = config.getoption("xmlpath", None)
        if xml_path and self.nodeids:  # written by pytest's junitxml as the session finished
            junit.retitle(xml_path, self.nodeids, config.getoption("junitprefix", None))


def _text(report: pytest.TestReport) -> str | None:
    longrepr = report.longrepr
    if longrepr is None:
        return None  # (longreprtext would render nothing through a new TerminalWriter)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return report.longreprtext or None


def masked_options(config: pytest.Config) -> dict:
    """Every usacloud setting as this run saw it, with secrets (tokens, Redis passwords) masked."""
    masker = Masker.from_sources(os.environ)
    options = {}
    for opt in OPTIONS:
        value = raw(config, opt.name)
        if isinstance(value, (list, tuple)):
            value = [masker.text(str(v)) for v in value]
        elif isinstance(value, str):
            value = masker.text(mask_url(value) if opt.name == "usacloud_rate_backend" else value)
        options[opt.name] = value
    return options
