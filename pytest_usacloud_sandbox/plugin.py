"""pytest hooks: thin wiring between pytest, pytest-xdist and the plugin's modules."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import pytest

from . import options, settings, startup
from .errorpolicy import CRITICAL_MARKER
from .items import ENGINE_KEY, RECORDS_KEY, Scope, ScriptSkipped, UsacloudFile, UsacloudItem
from .record.script import from_wire, to_wire
from .report import teststatus
from .startup import INTERRUPTS_KEY, SCOPE_KEY, SETTINGS_KEY, STATE_KEY, TOTALS_KEY
from .state.shared import RUN_INPUT, remote_file_bucket

STATS_OUTPUT = "usacloud_stats"
RECORD_WIRE = "usacloud"  # a call report's serialized data: its script's record, as JSON text


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
            startup.activate(config)
    elif scope.asked or s.sweep is not None or (scope.anywhere and config.getoption("dist", "no") != "no"):
        startup.activate(config)  # under xdist the controller cannot wait for collection: workers need the run


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items) -> None:
    """usacloud_collect = anywhere in one process: the plugin wakes up once a script is collected."""
    waiting = STATE_KEY not in config.stash and not hasattr(config, "workerinput")
    if waiting and any(isinstance(item, UsacloudItem) for item in items):
        startup.activate(config)
        startup.preflight(config)  # still before the first script


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """The preflight, on the controller or a lone process: before any script's first command, since
    xdist starts its workers in its own pytest_sessionstart, which runs last (trylast)."""
    startup.preflight(session.config)


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
