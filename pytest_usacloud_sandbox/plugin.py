"""pytest hooks: thin wiring between pytest, pytest-xdist and the plugin's modules."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import pytest

from . import settings
from .controller import RunReporter
from .errorpolicy import CRITICAL_MARKER, ErrorPolicy
from .items import ENGINE_KEY, Scope, UsacloudFile, UsacloudItem
from .limit import bucket as ratelimit
from .limit.bucket import TokenLimiter
from .report.progress import write_worker_stats
from .run.execute import Engine, WorkerStats
from .state import children as children_registry
from .state.children import Children
from .state.stop import StopSignal

SETTINGS_KEY = pytest.StashKey[settings.Settings]()
RUN_KEY = pytest.StashKey["RunState"]()
SCOPE_KEY = pytest.StashKey[Scope]()
RUN_DIR_INPUT = "usacloud_run_dir"
STATS_OUTPUT = "usacloud_stats"


class UsacloudWarning(UserWarning):
    pass


class RunState:
    """The controller's (or a lone process's) view of the run."""

    def __init__(self, run_dir: Path, owner: bool) -> None:
        self.run_dir = run_dir
        self.owner = owner  # this process created the run directory and cleans it up
        self.stats = WorkerStats()
        self.workers = 0


def pytest_addoption(parser: pytest.Parser) -> None:
    settings.add_options(parser)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    s = config.stash.get(SETTINGS_KEY, None)
    if s is None:
        try:
            s = settings.load(config)
        except pytest.UsageError:
            return None
    return settings.AUTO_WORKERS if s.active else None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{CRITICAL_MARKER}: a failure of this usacloud script stops the run under the 'critical' error policy",
    )
    config.addinivalue_line("markers", "usacloud_shell: run this usacloud script under bash (shell mode)")
    s = settings.load(config)
    config.stash[SETTINGS_KEY] = s
    if s.scripts and config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [str(p) for p in s.scripts]  # collect exactly those paths
    elif s.scripts:
        config.args += [str(p) for p in s.scripts if str(p) not in config.args]  # and the paths given too
    try:
        ratelimit.parse_backend(s.rate_backend or None, os.environ)
    except ValueError as exc:
        raise pytest.UsageError(f"--usacloud-rate-backend (ini usacloud_rate_backend): {exc}") from None
    scope = config.stash[SCOPE_KEY] = Scope.from_config(config, s)
    # Inert unless asked (issue 14): without scripts to run, no signal handler, no run directory,
    # no thread and no plugin object; the run looks as if the plugin were not installed.
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        if RUN_DIR_INPUT in worker_input:  # the controller was asked
            _activate(config)
    elif scope.asked or (scope.anywhere and config.getoption("dist", "no") != "no"):
        _activate(config)  # under xdist the controller cannot wait for collection: workers need the run


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items) -> None:
    """usacloud_collect = anywhere in one process: the plugin wakes up once a script is collected."""
    waiting = RUN_KEY not in config.stash and not hasattr(config, "workerinput")
    if waiting and any(isinstance(item, UsacloudItem) for item in items):
        _activate(config)


def _activate(config: pytest.Config) -> None:
    """Set up a run of usacloud scripts in this process: run directory, engine, error policy, reporter."""
    s = config.stash[SETTINGS_KEY]
    worker_input = getattr(config, "workerinput", None)
    if worker_input is None:
        _check_controller(config, s)
        run_dir = Path(tempfile.mkdtemp(prefix="pytest-usacloud-"))
        state = RunState(run_dir, owner=True)
        config.stash[RUN_KEY] = state
        _install_sigterm()
    else:
        run_dir = Path(worker_input[RUN_DIR_INPUT])
    engine = config.stash[ENGINE_KEY] = _engine(config, s, run_dir, worker_input)
    config.pluginmanager.register(
        ErrorPolicy(config, s.error_policy, s.maxfail, engine.stop, run_dir, engine.children), "usacloud-policy"
    )
    if worker_input is None:
        parsed = ratelimit.parse_backend(s.rate_backend or None, os.environ)
        backend = parsed.masked() if parsed.kind == "redis" else f"file:{parsed.masked()}"
        reporter = RunReporter(config, s, engine, run_dir, backend, config.stash[RUN_KEY].stats)
        config.pluginmanager.register(reporter, "usacloud-reporter")


def _check_controller(config: pytest.Config, s: settings.Settings) -> None:
    """Bad options are a UsageError before anything runs."""
    if s.active:
        workers = config.getoption("numprocesses", None)
        if isinstance(workers, int) and workers > s.max_workers:
            raise pytest.UsageError(
                f"-n {workers}: usacloud runs use at most {s.max_workers} workers (the API asks not to concentrate "
                "access); raise the ini key usacloud_max_workers (or --usacloud-max-workers) to allow more"
            )
        if not s.dry_run:
            settings.resolve_binary(s.usacloud_bin)
    backend = ratelimit.parse_backend(s.rate_backend or None, os.environ)
    if s.active and not s.dry_run and s.rate != float("inf"):
        try:
            ratelimit.check_backend(backend, os.environ)
        except ratelimit.LimiterUnavailable as exc:
            raise pytest.UsageError(f"--usacloud-rate-backend: {exc}") from None


def _engine(config: pytest.Config, s: settings.Settings, run_dir: Path, worker_input) -> Engine:
    worker = worker_input.get("workerid", "main") if worker_input else "main"
    binary = None
    if not s.dry_run:
        try:
            binary = settings.resolve_binary(s.usacloud_bin)
        except pytest.UsageError:
            binary = s.usacloud_bin  # not found: each command fails as missing-binary (critical)
    backend = ratelimit.parse_backend(s.rate_backend or None, os.environ)

    def limiter() -> TokenLimiter:
        return TokenLimiter(s.rate, s.burst, ratelimit.open_store(backend, os.environ, on_warning=_warn))

    publish = _publisher(run_dir, worker) if worker_input else None
    return Engine(
        children=Children(run_dir / "children" / worker),
        publish=publish,
        settings=s,
        usacloud_bin=binary,
        stop=StopSignal(run_dir / "stop"),
        base_env=dict(os.environ),
        run_dir=run_dir,
        worker=worker,
        limiter_factory=None if s.dry_run or s.rate == float("inf") else limiter,
    )


def _publisher(run_dir: Path, worker: str):
    """Write a worker's counters for the controller's live progress, at most twice a second."""
    last = [0.0]

    def publish(stats: WorkerStats, force: bool) -> None:
        now = time.monotonic()
        if force or now - last[0] >= 0.5:
            last[0] = now
            try:
                write_worker_stats(run_dir, worker, asdict(stats))
            except OSError:
                pass  # the display is best effort; the final counters go through workeroutput

    return publish


def _warn(message: str) -> None:
    warnings.warn(UsacloudWarning(message), stacklevel=2)


def _install_sigterm() -> None:
    """SIGTERM to pytest behaves like Ctrl-C: children are terminated, what finished is reported."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        try:
            signal.signal(signal.SIGTERM, _raise_interrupt)
        except ValueError:  # not the main thread
            pass


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    state = node.config.stash.get(RUN_KEY, None)
    if state is not None:
        node.workerinput[RUN_DIR_INPUT] = str(state.run_dir)


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    scope = parent.config.stash.get(SCOPE_KEY, None)
    if scope is not None and scope.wants(file_path):
        return UsacloudFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    result = yield
    report = result.get_result()
    if isinstance(item, UsacloudItem) and item.record is not None and report.when == "call":
        report.usacloud = item.record.to_dict()
        item.release_record()


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    engine = config.stash.get(ENGINE_KEY, None)
    if engine is None:
        return
    engine.children.terminate_all()
    engine.close()
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[STATS_OUTPUT] = asdict(engine.stats)
    elif RUN_KEY in config.stash and config.pluginmanager.getplugin("dsession") is None:
        config.stash[RUN_KEY].stats.add(asdict(engine.stats))


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem, report, sched) -> None:
    """A worker died: kill what it had running now, not only at the end of the session."""
    state = report.node.config.stash.get(RUN_KEY, None) if hasattr(report, "node") else None
    if state is not None:
        children_registry.sweep(state.run_dir / "children" / report.node.gateway.id)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    state = node.config.stash.get(RUN_KEY, None)
    if state is not None:
        state.stats.add(getattr(node, "workeroutput", {}).get(STATS_OUTPUT, {}))
        state.workers += 1


def pytest_unconfigure(config: pytest.Config) -> None:
    engine = config.stash.get(ENGINE_KEY, None)
    if engine is not None:
        engine.children.terminate_all()
    state = config.stash.get(RUN_KEY, None)
    if state is not None and state.owner:
        children_registry.sweep(state.run_dir / "children")
        shutil.rmtree(state.run_dir, ignore_errors=True)
