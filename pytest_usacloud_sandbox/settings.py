"""Settings: the options' checked values (:mod:`.options`) as one frozen object.

:func:`load` reads each option from the command line, else the ini file, else its default, and
adds only what needs more than one value or the machine: paths (relative to where pytest started,
or to the rootdir for the ini file), the rate backend, ``-x``; :func:`check_report_path` and
:func:`resolve_binary` are the controller's checks before anything runs. A bad value is a
pytest.UsageError naming the option.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from .limit.backend import Backend, parse_backend
from .options import DEFAULT_MAX_WORKERS, OPTIONS, Option

AUTO_WORKERS = 5


@dataclass(frozen=True)
class Settings:
    scripts: tuple[Path, ...] = ()
    script_glob: str = "*.usacloud"
    collect: str = "paths"
    usacloud_bin: str = "usacloud"
    timeout: float = 300.0
    script_timeout: float = 1800.0
    dry_run: bool = False
    preflight: bool = True
    fake: bool = False
    fake_timeout: float = 30.0
    allow_dangerous: bool = False
    allow_dangerous_any: bool = False  # =any: deletes may touch what this run did not create
    allow_global_writes: bool = False
    allow_profiles: bool = False
    rate: float = 2.0
    burst: int = 1
    retries: int = 3
    retry_backoff: float = 1.0
    rate_backend: Backend | None = None  # parsed once, here; its repr masks a redis password
    run_group: str = ""
    shard: str = ""
    max_workers: int = DEFAULT_MAX_WORKERS
    error_policy: str = "critical"
    strict: bool = False
    maxfail: int = 0
    progress: str = "auto"
    progress_interval: float = 10.0
    report: Path | None = None
    github: str = "auto"
    mode: str = "commands"
    cleanup: str = "run"
    cleanup_timeout: float = 600.0
    allow_leftovers: bool = False
    sweep: float | None = None  # --usacloud-sweep: hours (None: no sweep, scripts run)
    max_script_bytes: int = 1024 * 1024

    @property
    def command_timeout(self) -> float:
        """Seconds one usacloud command may run: ``--usacloud-fake-timeout`` in fake mode."""
        return self.fake_timeout if self.fake else self.timeout

    @property
    def active(self) -> bool:
        """Whether this session was asked to run usacloud scripts (options or ini), or to sweep."""
        return bool(self.scripts) or self.sweep is not None


def value(config: pytest.Config, opt: Option) -> tuple[object, bool]:
    """The option's checked value and whether it came from the command line (argparse checked it)."""
    given = config.getoption(opt.name)
    if given is not None:
        return given, True
    try:
        return opt.from_ini(config.getini(opt.name)), False
    # pytest's own typed-value errors too: a ValueError before pytest 9.2, a UsageError without the key since
    except (ValueError, TypeError, pytest.UsageError) as exc:
        raise pytest.UsageError(f"ini {opt.name}: {exc}") from None


def load(config: pytest.Config) -> Settings:
    """Read every setting; raise pytest.UsageError naming the option at fault."""
    values, from_cli = {}, {}
    for opt in OPTIONS:
        values[opt.attribute], from_cli[opt.attribute] = value(config, opt)
    values["scripts"] = _scripts(config, values["scripts"], from_cli["scripts"])
    values["script_glob"] = values["script_glob"] or "*.usacloud"
    values["usacloud_bin"] = values["usacloud_bin"] or "usacloud"
    values["rate_backend"] = _backend(values["rate_backend"])
    values["report"] = _report_path(config, values["report"], from_cli["report"])
    dangerous = values["allow_dangerous"]
    values["allow_dangerous"], values["allow_dangerous_any"] = dangerous != "off", dangerous == "any"
    values["maxfail"] = int(config.getoption("maxfail", 0) or 0)
    if values["maxfail"]:
        values["error_policy"] = "stop"  # -x / --maxfail=N mean stop after N failures
    return Settings(**values)


def xdist_workers(config: pytest.Config) -> int:
    """How many xdist workers this run starts (``-n N`` or the ``--tx`` specs, ``2*ssh=...`` counting 2); 0 without."""
    if config.getoption("dist", "no") == "no":
        return 0
    count = 0
    for spec in config.getoption("tx", None) or ():
        head, star, _ = str(spec).partition("*")
        count += int(head) if star and head.isdigit() else 1
    return count


def resolve_binary(name: str) -> str:
    """The usacloud executable as an absolute path, or a UsageError before anything runs."""
    if os.sep in name:
        path = Path(name).expanduser()
        if not path.is_file():
            raise pytest.UsageError(f"--usacloud-bin: {path} does not exist")
        if not os.access(path, os.X_OK):
            raise pytest.UsageError(f"--usacloud-bin: {path} is not executable")
        return str(path.absolute())
    found = shutil.which(name)
    if found is None:
        raise pytest.UsageError(
            f"--usacloud-bin: {name!r} was not found on PATH; install usacloud, point --usacloud-bin "
            "(ini usacloud_bin) at it, or use --usacloud-dry-run to check scripts without it"
        )
    return found


def check_report_path(path: Path | None) -> None:
    """The JSON report can be written there (its directory exists or can be made, and is writable)."""
    if path is None:
        return
    if path.is_dir():
        raise pytest.UsageError(f"--usacloud-report: {path} is a directory")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise pytest.UsageError(f"--usacloud-report: cannot write {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise pytest.UsageError(f"--usacloud-report: cannot write {path}: {parent} is not writable")


def _scripts(config: pytest.Config, given, from_cli: bool) -> tuple[Path, ...]:
    """Command-line paths from where pytest was started; ini paths from the rootdir. Each must exist."""
    base = Path(config.invocation_params.dir) if from_cli else Path(config.rootpath)
    scripts = tuple((base / os.path.expanduser(str(p))).absolute() for p in given or ())
    for path in scripts:
        if not path.exists():
            raise pytest.UsageError(f"--usacloud-scripts: {path} does not exist")
    return scripts


def _backend(spec: str) -> Backend:
    try:
        return parse_backend(str(spec or ""), os.environ)
    except ValueError as exc:  # the message masks any password
        raise pytest.UsageError(f"--usacloud-rate-backend (ini usacloud_rate_backend): {exc}") from None


def _report_path(config: pytest.Config, given: str, from_cli: bool) -> Path | None:
    if not given:
        return None
    path = Path(os.path.expanduser(str(given)))
    if not path.is_absolute():
        path = (Path(config.invocation_params.dir) if from_cli else Path(config.rootpath)) / path
    return path
