"""Shared fixtures: end-to-end runs of pytest with the plugin against the stand-in usacloud."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from standin_tools import STANDIN_BIN, read_events, read_log, standin_env, untagged, write_rules

from pytest_usacloud_sandbox.fakemode.stores import SEED_FILE
from pytest_usacloud_sandbox.record.preflight import ARGV as PREFLIGHT_ARGV
from pytest_usacloud_sandbox.report.ticker import WAKE
from pytest_usacloud_sandbox.signals import HANDLED

#: pytest's own plugins an inner pytest goes without: ``unraisableexception`` runs gc.collect() five
#: times at exit in every process (0.25 s each on this machine; about 0.5 s a run with xdist workers,
#: over some 300 inner runs). pytester's in-process runs skip those collections too.
INNER_TRIMS = ("-p", "no:unraisableexception")
#: Plugins the inner pytest loads (autoload is off so that unrelated plugins installed on the
#: machine neither slow each run down nor change its output).
INNER_PLUGINS = ("-p", "xdist.plugin", "-p", "pytest_usacloud_sandbox.plugin", *INNER_TRIMS)
#: The header line that puts one script in shell mode.
SHELL_MARKER_LINE = "# pytest.mark.usacloud_shell\n"


def pytest_configure(config: pytest.Config) -> None:
    """Started with SIGINT or SIGHUP ignored (``nohup``, a background job of a script), the suite
    would pass that on: an ignored signal stays ignored across exec, so an inner pytest could not be
    interrupted and the tests that send it SIGINT or SIGHUP would wait for it in vain. Such a signal
    is ignored here by a handler instead: the same in this process, and, as for every handler, the
    default again in each process started from here (inner runs, xdist workers)."""
    for signum in (signal.SIGINT, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_IGN:
            signal.signal(signum, _ignore)


def _ignore(signum, frame) -> None:
    pass


@pytest.hookimpl(optionalhook=True)  # a hook of xdist's: the suite also runs without it (-p no:xdist)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """This suite under ``-n N``: xdist's work-stealing scheduler instead of its plain ``load``.

    The suite mixes about a thousand tests of a few milliseconds with about a hundred end-to-end
    tests of several seconds each. ``load`` hands each worker chunks of up to a quarter of what is
    pending: a worker that drew the quick tests asks for more and more, the other one is left with
    a long queue of slow tests, and at the end one worker idles for minutes (measured: idle from
    127 s while the other ran to 310 s). ``worksteal`` lets an idle worker take half of another's
    queue. Only the outer suite is affected (inner pytest runs never load this conftest); any other
    ``--dist`` mode asked for explicitly is left alone.
    """
    if config.getvalue("dist") == "load":
        from xdist.scheduler import WorkStealingScheduling

        return WorkStealingScheduling(config, log)
    return None


class E2E:
    """One end-to-end scenario: scripts in a fresh directory, an inner pytest run, the stand-in's log."""

    def __init__(self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self.pytester = pytester
        self.dir = pytester.path / "scripts"
        self.dir.mkdir()
        self.tmp = tmp_path
        self.log_path = tmp_path / "usacloud.jsonl"
        env = standin_env(tmp_path)
        env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # never the user's real token bucket
        # An inner run killed on purpose cannot remove its run directory: it stays in pytest's own
        # temporary tree (cleaned by pytest), never in /tmp. (In-process runs use this process's.)
        env["TMPDIR"] = str(tmp_path / "tmp")
        (tmp_path / "tmp").mkdir()
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        for name in [k for k in os.environ if k not in env]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        self.monkeypatch = monkeypatch

    def script(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def shell_script(self, name: str, body: str) -> Path:
        """A script marked usacloud_shell: the marker is line 1, the body starts on line 2."""
        return self.script(name, SHELL_MARKER_LINE + textwrap.dedent(body).lstrip("\n"))

    def rules(self, rules: list[dict]) -> None:
        write_rules(self.tmp / "rules.json", rules)
        self.monkeypatch.setenv("STANDIN_RULES", str(self.tmp / "rules.json"))

    def env(self, **values) -> None:
        for name, value in values.items():
            self.monkeypatch.setenv(name, str(value))

    def run(
        self,
        *args: str,
        workers: int = 0,
        rate: str = "unlimited",
        scripts: bool = True,
        timeout: float = 300,
        inprocess: bool | None = None,
    ) -> pytest.RunResult:
        """An inner pytest on the scripts with the stand-in.

        In a fresh interpreter with ``workers`` (``-n``, as users run it) or ``inprocess=False``;
        otherwise in this process, which spares an interpreter, pytest and the plugin starting
        (about 1 s a run on a loaded 2-core machine); workers asked for with ``--tx`` in ``args``
        are started from here then. The plugin keeps no module-level state; that it leaves no
        thread running and puts back the SIGTERM and SIGHUP handlers it installs is checked here.
        A test that reads what the plugin writes to the terminal's file descriptor itself (the
        progress lines), or signals the run, or needs its own process, runs it in a fresh
        interpreter (``inprocess=False``, or :meth:`start`).
        """
        argv = self._args(args, workers, rate, scripts)
        if inprocess is False or (inprocess is None and workers):
            return self.pytester.runpytest_subprocess(*argv, timeout=timeout)
        return self._inprocess(argv, timeout)

    def _inprocess(self, argv: list[str], timeout: float) -> pytest.RunResult:
        handlers, threads = _handlers(), set(threading.enumerate())

        def overdue(signum, frame):
            raise TimeoutError(f"the inner pytest run took more than {timeout:g} s: {argv}")

        alarm = signal.signal(signal.SIGALRM, overdue)  # pytest runs tests in the main thread
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            # the plugin is imported already, so pytest cannot rewrite its asserts: it says so, here only
            result = self.pytester.runpytest_inprocess(*argv, "-W", "ignore::pytest.PytestAssertRewriteWarning")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, alarm)
            leaked = _handlers()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
        assert leaked == handlers, "the plugin left its SIGTERM/SIGHUP/SIGURG handlers in place after the run"
        # the plugin joins its threads with bounded waits: one still running 10 s on is left behind
        left = wait_gone_threads(threads, 10)
        assert not left, f"the inner run left threads running: {left}"
        return result

    def usage_error(self, *args: str, scripts: bool = True) -> pytest.RunResult:
        """An inner pytest run in this process that must stop on a usage error; returns its result.

        In-process is safe here (and 20 times cheaper than a new interpreter): a UsageError comes
        from the plugin's configure, before it installs a signal handler, starts a thread or makes
        a run directory. The result must say so, else the run may have left state behind."""
        handlers = _handlers()
        result = self.pytester.runpytest_inprocess(*self._args(args, 0, "unlimited", scripts))
        assert result.ret == pytest.ExitCode.USAGE_ERROR, (args, result.stdout.str(), result.stderr.str())
        assert _handlers() == handlers, "the usage error came after the plugin set up a run"
        return result

    def argv(
        self, *args: str, workers: int = 0, rate: str | None = "unlimited", scripts: bool | Path = True
    ) -> list[str]:
        """The command line of an inner pytest (for subprocess.Popen, where a test steers the run itself).

        ``scripts``: True for this scenario's scripts, a directory for others, False for none;
        ``rate`` None leaves ``--usacloud-rate`` to ``args`` (or its default)."""
        return [sys.executable, "-m", "pytest", *self._args(args, workers, rate, scripts), "-p", "no:cacheprovider"]

    def start(
        self, *args: str, workers: int = 0, rate: str | None = "unlimited", scripts: bool | Path = True, **popen
    ) -> subprocess.Popen:
        """Start an inner pytest in the background (in the test's directory unless ``cwd`` is given;
        output piped, stderr into stdout unless given)."""
        popen.setdefault("cwd", self.pytester.path)
        popen.setdefault("stdout", subprocess.PIPE)
        popen.setdefault("stderr", subprocess.STDOUT)
        return subprocess.Popen(self.argv(*args, workers=workers, rate=rate, scripts=scripts), **popen)

    def _args(self, args, workers: int, rate: str | None, scripts: bool | Path) -> list[str]:
        argv = list(INNER_PLUGINS)
        if scripts:
            argv.append(f"--usacloud-scripts={self.dir if scripts is True else scripts}")
        argv.append(f"--usacloud-bin={STANDIN_BIN}")
        if rate is not None:
            argv.append(f"--usacloud-rate={rate}")
        if workers:
            argv += ["-n", str(workers)]
        return argv + list(args)

    def concurrent_runs(self, names, scripts_per_run: int, commands: int, *args: str, timeout: float = 240):
        """Start one inner pytest per name at the same moment, each on its own scripts; wait for all.

        Returns (outputs, reports): each run's combined output and the path of its JSON report.
        """
        procs, reports = [], []
        for name in names:
            directory = self.pytester.path / f"run-{name}"
            directory.mkdir()
            for n in range(scripts_per_run):
                (directory / f"{name}{n}.usacloud").write_text("usacloud zone list\n" * commands)
            report = self.tmp / f"report-{name}.json"
            reports.append(report)
            procs.append(
                self.start(
                    f"--usacloud-report={report}",
                    f"--rootdir={directory}",
                    *args,
                    rate=None,
                    scripts=directory,
                    cwd=directory,
                )
            )
        outputs = [p.communicate(timeout=timeout)[0].decode() for p in procs]
        assert [p.returncode for p in procs] == [0] * len(procs), outputs
        return outputs, reports

    def calls(self) -> list[dict]:
        """Finished stand-in calls made by scripts, in log order (not `usacloud version`, nor the
        preflight's call (:meth:`preflight_calls`), nor the seeding of the fake store in fake mode
        (:meth:`seed_calls`), nor the plugin's own listings and deletes (:meth:`own_calls`))."""
        return [
            c
            for c in read_log(self.log_path)
            if c["argv"] != ["version"] and not _seeding(c) and not _preflight(c) and not _own(c)
        ]

    def preflight_calls(self) -> list[dict]:
        """Finished stand-in calls of the run's preflight (preflight/call.py)."""
        return [c for c in read_log(self.log_path) if _preflight(c)]

    def own_calls(self) -> list[dict]:
        """Finished stand-in calls the plugin made itself (the teardown, the sweep, the listing that
        checks a delete's targets): they run in the run's own directory."""
        return [c for c in read_log(self.log_path) if _own(c)]

    def seed_calls(self) -> list[dict]:
        """Finished stand-in calls that seeded a fake mode run's store (fakemode/stores.py)."""
        return [c for c in read_log(self.log_path) if _seeding(c)]

    def events(self) -> list[dict]:
        """Every event of the scripts' stand-in calls (those of `usacloud version` and the preflight left out)."""
        events = read_events(self.log_path)
        theirs = {e["pid"] for e in events if e.get("argv") in (["version"], list(PREFLIGHT_ARGV))}
        return [e for e in events if e.get("pid") not in theirs]

    def pids(self, version: bool = False) -> list[int]:
        """Every stand-in process the scenario started, and every grandchild they spawned (``version``:
        also those of the header's `usacloud version`)."""
        events = read_events(self.log_path) if version else self.events()
        return [e["pid"] for e in events if e.get("event") == "start"] + [
            e["child_pid"] for e in events if e.get("event") == "spawn"
        ]

    def argvs(self) -> list[list[str]]:
        """The scripts' calls as they wrote them, but for the zone: the run's tags taken out."""
        return [untagged(c["argv"]) for c in self.calls()]


def _handlers() -> dict:
    """The signal handlers the plugin may put in place (and must take back)."""
    return {signum: signal.getsignal(signum) for signum in (*HANDLED, WAKE)}


def wait_gone_threads(before: set, timeout: float) -> set:
    """The threads started since ``before`` still running after up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (left := set(threading.enumerate()) - before) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


def _preflight(call: dict) -> bool:
    return call["argv"] == list(PREFLIGHT_ARGV)


def _seeding(call: dict) -> bool:
    return SEED_FILE in Path(call.get("fake_store") or "").name


def _own(call: dict) -> bool:
    """A call the plugin made itself: it runs in the run directory (state/shared.py makes its name)."""
    return Path(call.get("cwd") or "").name.startswith("pytest-usacloud-")


@pytest.fixture(scope="session")
def gen_mutants():
    """tools/gen_mutants.py as a module: values inside usacloud's rules, correct commands, the mutants."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "gen_mutants", Path(__file__).parent.parent / "tools" / "gen_mutants.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def dry_engine(tmp_path: Path):
    """An in-process Engine in dry-run mode (default policy): ``run(text, path)`` -> ScriptRecord."""
    from pytest_usacloud_sandbox.record.script import ScriptRecord
    from pytest_usacloud_sandbox.run.execute import Engine
    from pytest_usacloud_sandbox.script.parse import parse_script
    from pytest_usacloud_sandbox.settings import Settings
    from pytest_usacloud_sandbox.state.stop import StopSignal

    engine = Engine(
        settings=Settings(dry_run=True),
        usacloud_bin=None,
        stop=StopSignal(tmp_path / "stop"),
        base_env={},
        run_dir=tmp_path / "run",  # apart from the scripts, as a run's own directory always is
    )

    def run(text: str, path: Path | None = None) -> ScriptRecord:
        path = path or tmp_path / "script.usacloud"
        record = ScriptRecord(path=str(path), nodeid=path.name)
        return engine.run(parse_script(text), record)

    yield run
    engine.close()


@pytest.fixture(scope="session")
def real_bin() -> str:
    """The real usacloud 1.22.x for the real-usacloud tier (``real_tier.py``), or a skip saying why not."""
    from real_tier import real_binary

    return real_binary()


@pytest.fixture
def real(tmp_path, real_bin):
    """Scripts in a fresh directory, run by an inner pytest with the real usacloud in a namespace."""
    from real_tier import RealRun

    return RealRun(tmp_path, real_bin)


@pytest.fixture
def e2e(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> E2E:
    return E2E(pytester, monkeypatch, tmp_path)
