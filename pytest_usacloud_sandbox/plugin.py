"""pytest hooks: thin wiring between pytest, pytest-xdist and the plugin's modules."""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict
from pathlib import Path

import pytest

from . import options, settings
from .cleanup import session as cleanup
from .cleanup.runid import RunId
from .errorpolicy import CRITICAL_MARKER, ErrorPolicy
from .items import ENGINE_KEY, RECORDS_KEY, Scope, ScriptSkipped, UsacloudFile, UsacloudItem
from .limit.backend import Backend
from .limit.errors import LimiterUnavailable
from .record.inflight import InFlight
from .record.script import from_wire, to_wire
from .report import teststatus
from .run.execute import Engine, WorkerStats
from .signals import Interrupts
from .state.shared import RUN_INPUT, SharedState, remote_file_bucket, shard_name

SETTINGS_KEY = pytest.StashKey[settings.Settings]()
SCOPE_KEY = pytest.StashKey[Scope]()
STATE_KEY = pytest.StashKey[SharedState]()
TOTALS_KEY = pytest.StashKey[WorkerStats]()  # the controller's sum of every worker's counters
INTERRUPTS_KEY = pytest.StashKey[Interrupts]()  # this run's SIGTERM/SIGHUP handlers (unconfigure takes them back)
STATS_OUTPUT = "usacloud_stats"
RECORD_WIRE = "usacloud"  # a call report's serialized data: its script's record, as JSON text


class UsacloudWarning(UserWarning):
    pass


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    s = config.stash.get(SETTINGS_KEY, None)
    if s is None:
        try:
            s = config.stash[SETTINGS_KEY] = settings.load(config)
        except pytest.UsageError:
            return None
    return settings.AUTO_WORKERS if s.active else None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{CRITICAL_MARKER}: a failure of this usacloud script stops the run under the 'critical' error policy",
    )
    config.addinivalue_line("markers", "usacloud_shell: run this usacloud script under bash (shell mode)")
    s = config.stash.get(SETTINGS_KEY, None) or settings.load(config)  # loaded once (-n auto loads it first)
    config.stash[SETTINGS_KEY] = s
    if s.scripts and config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [str(p) for p in s.scripts]  # collect exactly those paths
    elif s.scripts:
        config.args += [str(p) for p in s.scripts if str(p) not in config.args]  # and the paths given too
    scope = config.stash[SCOPE_KEY] = Scope.from_config(config, s)
    # Inert unless asked: without scripts to run, no signal handler, no run directory,
    # no thread and no plugin object; the run looks as if the plugin were not installed.
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        if RUN_INPUT in worker_input:  # the controller was asked
            _activate(config)
    elif scope.asked or s.sweep is not None or (scope.anywhere and config.getoption("dist", "no") != "no"):
        _activate(config)  # under xdist the controller cannot wait for collection: workers need the run


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items) -> None:
    """usacloud_collect = anywhere in one process: the plugin wakes up once a script is collected."""
    waiting = STATE_KEY not in config.stash and not hasattr(config, "workerinput")
    if waiting and any(isinstance(item, UsacloudItem) for item in items):
        _activate(config)
        _preflight(config)  # still before the first script


def _activate(config: pytest.Config) -> None:
    """Set up a run of usacloud scripts in this process: run directory, engine, error policy, reporter."""
    s = config.stash[SETTINGS_KEY]
    worker_input = getattr(config, "workerinput", None)
    backend = s.rate_backend  # parsed once, by settings.load
    if worker_input is None:
        _check_controller(config, s)
        state = SharedState.open_run(RunId.new().value)
        config.stash[TOTALS_KEY] = WorkerStats()
        config.stash[INTERRUPTS_KEY] = Interrupts().install()
    else:
        state = SharedState.open_worker(worker_input)
    config.stash[STATE_KEY] = state
    engine = config.stash[ENGINE_KEY] = _engine(s, state, backend)
    records = config.stash[RECORDS_KEY] = InFlight()
    config.pluginmanager.register(ErrorPolicy(config, s.error_policy, s.maxfail, state, records), "usacloud-policy")
    runlog = None
    if worker_input is None:
        from .controller import RunReporter  # the terminal's process only: workers never load the reports

        reporter = RunReporter(config, s, engine, state, records, backend.label(), config.stash[TOTALS_KEY])
        config.pluginmanager.register(reporter, "usacloud-reporter")
        runlog = reporter.runlog
        if s.run_group:
            state.join_group(backend.url or "", s.run_group, shard_name(s.shard))
    cleanup.install(config, s, state, engine, records, runlog)  # tags, teardown, sweep


def _check_controller(config: pytest.Config, s: settings.Settings) -> None:
    """Bad options are a UsageError before anything runs."""
    settings.check_report_path(s.report)
    if s.active:
        workers = settings.xdist_workers(config)
        if workers > s.max_workers:
            raise pytest.UsageError(
                f"{workers} xdist workers (-n / --tx): usacloud runs use at most {s.max_workers} workers (the API asks "
                "not to concentrate access); raise the ini key usacloud_max_workers (or --usacloud-max-workers) "
                "to allow more"
            )
        if not s.dry_run:
            settings.resolve_binary(s.usacloud_bin)
    if s.sweep is not None and s.dry_run:
        raise pytest.UsageError("--usacloud-sweep lists and deletes resources: it cannot run with --usacloud-dry-run")
    if s.active and not s.dry_run and s.rate != float("inf"):
        try:
            _check_backend(s.rate_backend)
        except LimiterUnavailable as exc:
            raise pytest.UsageError(f"--usacloud-rate-backend: {exc}") from None
    if s.run_group:
        if s.rate_backend.kind != "redis":
            raise pytest.UsageError(
                "--usacloud-run-group: the runs of a group share their stop signal through Redis; "
                "give them all the same --usacloud-rate-backend=redis://host:port/db"
            )
        try:
            _check_backend(s.rate_backend)
        except LimiterUnavailable as exc:
            raise pytest.UsageError(f"--usacloud-run-group: {exc}") from None


def _check_backend(backend: Backend) -> None:
    from .limit import bucket  # only a run that uses the bucket (or Redis) imports the limiter

    bucket.check_backend(backend, os.environ)


def _engine(s: settings.Settings, state: SharedState, backend: Backend) -> Engine:
    binary = None
    if not s.dry_run:
        try:
            binary = settings.resolve_binary(s.usacloud_bin)
        except pytest.UsageError:
            binary = s.usacloud_bin  # not found: each command fails as missing-binary (critical)

    def limiter():  # -> TokenLimiter, made (and imported) on a worker's first token
        from .limit import bucket

        return bucket.TokenLimiter(s.rate, s.burst, bucket.open_store(backend, os.environ, on_warning=_warn))

    return Engine(
        children=state.children,
        publish=lambda stats, force: state.publish(vars(stats), force),  # publish copies it
        settings=s,
        usacloud_bin=binary,
        stop=state.stop,
        base_env=dict(os.environ),
        run_dir=state.home,
        worker=state.worker,
        limiter_factory=None if s.dry_run or s.rate == float("inf") else limiter,
    )


def _warn(message: str) -> None:
    warnings.warn(UsacloudWarning(message), stacklevel=2)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """The preflight, on the controller or a lone process: before any script's first command, since
    xdist starts its workers in its own pytest_sessionstart, which runs last (trylast)."""
    _preflight(session.config)


def _preflight(config: pytest.Config) -> None:
    """One read-only usacloud call before any script (run/preflight.py): a failure ends the session here."""
    reporter = config.pluginmanager.get_plugin("usacloud-reporter")
    s = config.stash.get(SETTINGS_KEY, None)
    if reporter is None or reporter.preflight is not None or s is None or not _runs_scripts(config):
        return
    if s.dry_run or not s.preflight:
        return
    with warnings.catch_warnings(record=True) as caught:  # pytest shows no warning of sessionstart by itself
        warnings.simplefilter("always")
        result = reporter.run_preflight()
    for warning in caught:  # the limiter's (a damaged bucket file, ...)
        config.issue_config_time_warning(warning.message, stacklevel=2)
    if result.warning:
        config.issue_config_time_warning(UsacloudWarning(result.warning), stacklevel=2)
    if not result.ok:
        engine = config.stash[ENGINE_KEY]
        engine.children.terminate_all()
        engine.close()
        raise pytest.UsageError(result.error_text())


def _runs_scripts(config: pytest.Config) -> bool:
    """Whether items will run at all (not --collect-only, --setup-only or --setup-plan)."""
    option = config.option
    return not (option.collectonly or getattr(option, "setuponly", False) or getattr(option, "setupplan", False))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    state = node.config.stash.get(STATE_KEY, None)
    if state is not None:
        state.configure_node(node.gateway.id, node.gateway, node.workerinput)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodeready(node) -> None:
    """Each worker said whether it sees the run directory before it collects: decide before anything runs."""
    state = node.config.stash.get(STATE_KEY, None)
    s = node.config.stash.get(SETTINGS_KEY, None)
    if state is None or s is None or state.sees_run_dir(node.gateway.id) is not False:
        return
    uses_bucket = not s.dry_run and s.rate != float("inf")
    if uses_bucket and s.rate_backend.kind == "file":
        raise pytest.UsageError(remote_file_bucket(node.gateway.id, s.rate_backend.masked()))


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    scope = parent.config.stash.get(SCOPE_KEY, None)
    if scope is not None and scope.wants(file_path):
        return UsacloudFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: pytest's outcome (xfail included) is final
def pytest_runtest_makereport(item: pytest.Item, call):
    """A script's call report: its record is frozen with the outcome pytest gives it, and the report
    points at the failing line. Its teardown report: the record has been logged, and goes."""
    report = yield
    records = item.config.stash.get(RECORDS_KEY, None)
    if not isinstance(item, UsacloudItem) or records is None:
        return report
    if report.when == "teardown":
        records.drop(report)
        return report
    if report.when != "call":
        return report
    record = records.running(item.nodeid)
    if record is not None and not record.frozen:
        record.outcome = teststatus.outcome(report, record)
        record.freeze()
    path, line, domain = item.reportinfo()
    report.location = (report.location[0], line, domain)  # the failing line, now that the script ran
    if call.excinfo is not None and call.excinfo.errisinstance(ScriptSkipped) and isinstance(report.longrepr, tuple):
        # at the script, not at this plugin
        report.longrepr = (os.fspath(path), line + 1, f"Skipped: {call.excinfo.value.msg}")
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    return teststatus.teststatus(report)


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(config: pytest.Config, report):
    """A worker's call report crosses xdist with its script's record, as one JSON text in its data."""
    data = yield
    records = config.stash.get(RECORDS_KEY, None)
    if records is not None and hasattr(config, "workerinput") and isinstance(data, dict):
        record = records.get(report) if getattr(report, "when", None) == "call" else None
        if record is not None:
            data[RECORD_WIRE] = to_wire(record)
    return data


@pytest.hookimpl(wrapper=True)
def pytest_report_from_serializable(config: pytest.Config, data):
    """On the controller the record goes in flight under the worker's id; the report itself does not
    carry it (pytest keeps every report for the whole session)."""
    wire = data.pop(RECORD_WIRE, None) if isinstance(data, dict) else None
    report = yield
    records = config.stash.get(RECORDS_KEY, None)
    record = from_wire(wire) if isinstance(wire, str) and records is not None else None
    if record is not None:
        records.put(record, getattr(report, "worker_id", None))
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    engine = config.stash.get(ENGINE_KEY, None)
    if engine is None:
        return
    engine.children.terminate_all()
    engine.close()
    config.stash[STATE_KEY].finish()
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[STATS_OUTPUT] = asdict(engine.stats)
    elif TOTALS_KEY in config.stash and config.pluginmanager.getplugin("dsession") is None:
        config.stash[TOTALS_KEY].add(asdict(engine.stats))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """A worker ended; one that died is swept at once (on this host), not only at the end of the session."""
    state = node.config.stash.get(STATE_KEY, None)
    if state is not None:
        state.node_down(node.gateway.id, crashed=error is not None)
        config_totals = node.config.stash.get(TOTALS_KEY, None)
        if config_totals is not None:
            config_totals.add(getattr(node, "workeroutput", {}).get(STATS_OUTPUT, {}))


def pytest_unconfigure(config: pytest.Config) -> None:
    interrupts = config.stash.get(INTERRUPTS_KEY, None)
    if interrupts is not None:
        interrupts.restore()
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        state.close()
