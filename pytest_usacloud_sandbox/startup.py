"""Setting a run up in one process (the controller, a worker, or a lone pytest): its settings,
run directory, engine, error policy and reporter, and the preflight before the first script."""

from __future__ import annotations

import os
import warnings

import pytest

from . import settings
from .cleanup import session as cleanup
from .cleanup.runid import RunId
from .errorpolicy import ErrorPolicy
from .items import ENGINE_KEY, RECORDS_KEY, Scope
from .limit.backend import Backend
from .limit.errors import LimiterUnavailable
from .record.inflight import InFlight
from .run.execute import Engine, WorkerStats
from .signals import Interrupts
from .state.shared import SharedState, shard_name

SETTINGS_KEY = pytest.StashKey[settings.Settings]()
SCOPE_KEY = pytest.StashKey[Scope]()
STATE_KEY = pytest.StashKey[SharedState]()
TOTALS_KEY = pytest.StashKey[WorkerStats]()  # the controller's sum of every worker's counters
INTERRUPTS_KEY = pytest.StashKey[Interrupts]()  # this run's SIGTERM/SIGHUP handlers (unconfigure takes them back)


class UsacloudWarning(UserWarning):
    pass


def activate(config: pytest.Config) -> None:
    """Set up a run of usacloud scripts in this process: run directory, engine, error policy, reporter."""
    s = config.stash[SETTINGS_KEY]
    worker_input = getattr(config, "workerinput", None)
    backend = s.rate_backend  # parsed once, by settings.load
    if worker_input is None:
        check_options(config, s)
        state = SharedState.open_run(RunId.new().value)
        config.stash[TOTALS_KEY] = WorkerStats()
        config.stash[INTERRUPTS_KEY] = Interrupts().install()
    else:
        state = SharedState.open_worker(worker_input)
    config.stash[STATE_KEY] = state
    engine = config.stash[ENGINE_KEY] = make_engine(s, state, backend)
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


def check_options(config: pytest.Config, s: settings.Settings) -> None:
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


def make_engine(s: settings.Settings, state: SharedState, backend: Backend) -> Engine:
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


def preflight(config: pytest.Config) -> None:
    """One read-only usacloud call before any script (preflight/): a failure ends the session here."""
    reporter = config.pluginmanager.get_plugin("usacloud-reporter")
    s = config.stash.get(SETTINGS_KEY, None)
    if reporter is None or reporter.preflight is not None or s is None or not runs_scripts(config):
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


def runs_scripts(config: pytest.Config) -> bool:
    """Whether items will run at all (not --collect-only, --setup-only or --setup-plan)."""
    option = config.option
    return not (option.collectonly or getattr(option, "setuponly", False) or getattr(option, "setupplan", False))
