"""Options and ini keys, validated into one frozen Settings (bad values are a pytest.UsageError)."""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from .limit.backend import Backend, parse_backend

ERROR_POLICIES = ("continue", "stop", "critical")
PROGRESS_MODES = ("auto", "on", "off")
GITHUB_MODES = ("auto", "on", "off")
COLLECT_MODES = ("paths", "anywhere")
MODES = ("commands", "shell")
CLEANUP_MODES = ("run", "script", "off")
#: --usacloud-allow-dangerous[=WHAT]: off, on (what this run created) or any (anything)
DANGEROUS = {"off": "off", "false": "off", "no": "off", "0": "off", "": "off"}
DANGEROUS |= {"on": "on", "true": "on", "yes": "on", "1": "on", "any": "any"}
DEFAULT_SWEEP_HOURS = "24"
AUTO_WORKERS = 5
DEFAULT_MAX_WORKERS = 10


@dataclass(frozen=True)
class Option:
    """One setting: a command-line option and the ini key of the same name."""

    name: str  # ini key, e.g. "usacloud_rate"; the option is --usacloud-rate
    help: str
    default: object = None
    kind: str = "string"  # string | bool | paths | optional (the flag alone means ``const``)
    metavar: str | None = None
    repeat: bool = False
    shown_default: str | None = None  # how the default reads in --help and the README, when not the value
    const: str | None = None  # kind optional: the value of the flag given without one

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def default_text(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        if self.kind == "bool":
            return "on" if self.default else "off"
        return str(self.default) if self.default not in (None, "", ()) else "none"


OPTIONS = (
    Option(
        "usacloud_scripts", "directory or file of *.usacloud scripts to collect (repeatable)", (), "paths", "PATH", True
    ),
    Option(
        "usacloud_script_glob",
        "file name pattern of usacloud scripts",
        "*.usacloud",
        metavar="GLOB",
    ),
    Option(
        "usacloud_collect",
        "where scripts are collected: paths (under --usacloud-scripts, or named on the command line) "
        "or anywhere pytest looks",
        "paths",
        metavar="WHERE",
    ),
    Option("usacloud_bin", "the usacloud executable (a path, or a name found on PATH)", "usacloud", metavar="PATH"),
    Option(
        "usacloud_timeout",
        "seconds one usacloud command may run before its process group is terminated",
        "300",
        metavar="SECONDS",
    ),
    Option("usacloud_script_timeout", "seconds a whole script may run (shell mode)", "1800", metavar="SECONDS"),
    Option("usacloud_dry_run", "execute nothing: check every command offline and show what would run", False, "bool"),
    Option(
        "usacloud_fake",
        "run usacloud's own fake driver (SAKURACLOUD_FAKE_MODE=1) with dummy credentials, one fake store per script",
        False,
        "bool",
    ),
    Option(
        "usacloud_fake_timeout",
        "seconds one usacloud command may run in fake mode (usacloud's fake driver can hang after a change)",
        "30",
        metavar="SECONDS",
    ),
    Option(
        "usacloud_allow_dangerous",
        "allow delete, boot, shutdown, reset and send-nmi subcommands on what this run created "
        "(=any: on anything its targets match)",
        "off",
        "optional",
        "any",
        const="on",
    ),
    Option(
        "usacloud_allow_global_writes",
        "allow changes to global resources (dns, note, icon, ...), which tk1v does not isolate",
        False,
        "bool",
    ),
    Option(
        "usacloud_allow_profiles",
        "let usacloud read this machine's profiles (~/.usacloud, ...); by default it sees only the run's "
        "environment, so a profile cannot choose the zone, the key or the API root",
        False,
        "bool",
    ),
    Option(
        "usacloud_rate",
        "usacloud commands per second, shared by every worker and run with the same API key ('unlimited' for none)",
        "2.0",
        metavar="PER_SECOND",
    ),
    Option("usacloud_burst", "token bucket size: commands that may start at once", "1", metavar="N"),
    Option(
        "usacloud_retries", "retries of a command refused for rate (429), with exponential backoff", "3", metavar="N"
    ),
    Option(
        "usacloud_retry_backoff",
        "seconds before the first retry of a 429; doubles each time, with jitter",
        "1.0",
        metavar="SECONDS",
    ),
    Option(
        "usacloud_rate_backend",
        "where the token bucket lives: file:PATH or redis://[:password@]host:port/db",
        "",
        metavar="SPEC",
        shown_default="a file in the user cache",
    ),
    Option(
        "usacloud_run_group",
        "share the stop signal with every run that names this group on the same Redis (CI shards): "
        "a stop in one cancels the others; unique per pipeline run; needs a redis:// rate backend",
        "",
        metavar="NAME",
    ),
    Option(
        "usacloud_shard",
        "this run's name in its run group, shown in the other shards' skip reasons",
        "",
        metavar="NAME",
        shown_default="host:pid",
    ),
    Option(
        "usacloud_max_workers", "the most xdist workers a usacloud run may use", str(DEFAULT_MAX_WORKERS), metavar="N"
    ),
    Option(
        "usacloud_error_policy",
        "what a failure does to the other scripts: continue, stop or critical",
        "critical",
        metavar="POLICY",
    ),
    Option("usacloud_progress", "live progress: auto, on or off", "auto", metavar="MODE"),
    Option(
        "usacloud_progress_interval",
        "seconds between plain progress lines when not on a terminal",
        "10",
        metavar="SECONDS",
    ),
    Option(
        "usacloud_github",
        "GitHub Actions annotations and step summary: auto (when GITHUB_ACTIONS=true), on or off",
        "auto",
        metavar="MODE",
    ),
    Option("usacloud_report", "write a JSON record of every script and command to this path", "", metavar="PATH"),
    Option(
        "usacloud_mode",
        "commands (run each usacloud command, no shell) or shell (run the script under bash)",
        "commands",
        metavar="MODE",
    ),
    Option(
        "usacloud_cleanup",
        "what the run removes of what it created (it tags every create): run (all of it after the last script), "
        "script (each script's right after it) or off (keep it; the summary says how to remove it)",
        "run",
        metavar="WHEN",
    ),
    Option(
        "usacloud_cleanup_timeout",
        "seconds the teardown may take before it stops and lists what remains",
        "600",
        metavar="SECONDS",
    ),
    Option(
        "usacloud_sweep",
        f"run no script: remove what earlier runs left, every resource carrying a run tag of this plugin "
        f"older than HOURS (default {DEFAULT_SWEEP_HOURS})",
        "",
        "optional",
        "HOURS",
        const=DEFAULT_SWEEP_HOURS,
    ),
    Option(
        "usacloud_max_script_bytes",
        "scripts larger than this fail without being parsed",
        str(1024 * 1024),
        metavar="BYTES",
    ),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("usacloud", "usacloud sandbox scripts")
    for opt in OPTIONS:
        ini_type = {"bool": "bool", "paths": "args"}.get(opt.kind, "string")
        parser.addini(opt.name, opt.help, type=ini_type, default=opt.default)
        text = f"{opt.help} (ini too; default: {opt.default_text})"
        if opt.kind == "bool":
            group.addoption(opt.flag, action="store_true", default=None, dest=opt.name, help=text)
        elif opt.kind == "optional":  # --flag alone, or --flag=VALUE
            group.addoption(
                opt.flag, nargs="?", const=opt.const, default=None, dest=opt.name, metavar=opt.metavar, help=text
            )
        else:
            action = "append" if opt.repeat else "store"
            group.addoption(opt.flag, action=action, default=None, dest=opt.name, metavar=opt.metavar, help=text)


def raw(config: pytest.Config, name: str):
    """Command line first, then the ini file, then the default."""
    value = config.getoption(name)
    if value is not None:
        return value
    return config.getini(name)


@dataclass(frozen=True)
class Settings:
    scripts: tuple[Path, ...] = ()
    script_glob: str = "*.usacloud"
    collect: str = "paths"
    usacloud_bin: str = "usacloud"
    timeout: float = 300.0
    script_timeout: float = 1800.0
    dry_run: bool = False
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
    maxfail: int = 0
    progress: str = "auto"
    progress_interval: float = 10.0
    report: Path | None = None
    github: str = "auto"
    mode: str = "commands"
    cleanup: str = "run"
    cleanup_timeout: float = 600.0
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


def load(config: pytest.Config) -> Settings:
    """Read and validate every setting; raise pytest.UsageError naming the option at fault."""
    root = Path(config.rootpath)
    cli_scripts = config.getoption("usacloud_scripts")
    if cli_scripts:
        scripts = tuple(Path(os.path.expanduser(p)).absolute() for p in cli_scripts)
    else:
        scripts = tuple((root / os.path.expanduser(p)).absolute() for p in config.getini("usacloud_scripts"))
    for path in scripts:
        if not path.exists():
            raise pytest.UsageError(f"--usacloud-scripts: {path} does not exist")
    maxfail = int(config.getoption("maxfail", 0) or 0)
    policy = _choice(config, "usacloud_error_policy", ERROR_POLICIES)
    dangerous = _dangerous(config)
    if maxfail:
        policy = "stop"  # -x / --maxfail=N mean stop after N failures
    return Settings(
        scripts=scripts,
        script_glob=str(raw(config, "usacloud_script_glob")) or "*.usacloud",
        collect=_choice(config, "usacloud_collect", COLLECT_MODES),
        usacloud_bin=str(raw(config, "usacloud_bin")) or "usacloud",
        timeout=_positive(config, "usacloud_timeout"),
        script_timeout=_positive(config, "usacloud_script_timeout"),
        dry_run=bool(raw(config, "usacloud_dry_run")),
        fake=bool(raw(config, "usacloud_fake")),
        fake_timeout=_positive(config, "usacloud_fake_timeout"),
        allow_dangerous=dangerous != "off",
        allow_dangerous_any=dangerous == "any",
        allow_global_writes=bool(raw(config, "usacloud_allow_global_writes")),
        allow_profiles=bool(raw(config, "usacloud_allow_profiles")),
        rate=_rate(config),
        burst=_integer(config, "usacloud_burst", minimum=1),
        retries=_integer(config, "usacloud_retries", minimum=0),
        retry_backoff=_positive(config, "usacloud_retry_backoff"),
        rate_backend=_backend(config),
        run_group=_name(config, "usacloud_run_group"),
        shard=_name(config, "usacloud_shard"),
        max_workers=_integer(config, "usacloud_max_workers", minimum=1),
        error_policy=policy,
        maxfail=maxfail,
        progress=_choice(config, "usacloud_progress", PROGRESS_MODES),
        progress_interval=_positive(config, "usacloud_progress_interval"),
        report=_report_path(config),
        github=_choice(config, "usacloud_github", GITHUB_MODES),
        mode=_choice(config, "usacloud_mode", MODES),
        cleanup=_choice(config, "usacloud_cleanup", CLEANUP_MODES),
        cleanup_timeout=_positive(config, "usacloud_cleanup_timeout"),
        sweep=_sweep(config),
        max_script_bytes=_integer(config, "usacloud_max_script_bytes", minimum=1),
    )


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


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _number(config: pytest.Config, name: str) -> float:
    value = raw(config, name)
    try:
        number = float(str(value).strip())
    except ValueError:
        raise pytest.UsageError(f"{_flag(name)} (ini {name}): {value!r} is not a number") from None
    if math.isnan(number):
        raise pytest.UsageError(f"{_flag(name)} (ini {name}): NaN is not a valid value")
    return number


def _positive(config: pytest.Config, name: str) -> float:
    number = _number(config, name)
    if not (number > 0 and math.isfinite(number)):
        raise pytest.UsageError(
            f"{_flag(name)} (ini {name}): must be a positive number of seconds, not {raw(config, name)!r}"
        )
    return number


def _rate(config: pytest.Config) -> float:
    if str(raw(config, "usacloud_rate")).strip().lower() == "unlimited":
        return math.inf
    number = _number(config, "usacloud_rate")
    if not number > 0:
        raise pytest.UsageError(
            f"--usacloud-rate (ini usacloud_rate): must be more than 0 commands per second "
            f"(or 'unlimited'), not {raw(config, 'usacloud_rate')!r}"
        )
    return number


def _integer(config: pytest.Config, name: str, minimum: int) -> int:
    value = raw(config, name)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise pytest.UsageError(f"{_flag(name)} (ini {name}): {value!r} is not a whole number") from None
    if number < minimum:
        raise pytest.UsageError(f"{_flag(name)} (ini {name}): must be at least {minimum}, not {number}")
    return number


def _choice(config: pytest.Config, name: str, choices: tuple[str, ...]) -> str:
    value = str(raw(config, name)).strip().lower()
    if value not in choices:
        raise pytest.UsageError(f"{_flag(name)} (ini {name}): {value!r} is not one of {', '.join(choices)}")
    return value


def _dangerous(config: pytest.Config) -> str:
    """``off``, ``on`` (deletes touch only what this run created) or ``any``; the ini's old true/false too."""
    value = raw(config, "usacloud_allow_dangerous")
    text = ("on" if value else "off") if isinstance(value, bool) else str(value or "").strip().lower()
    if text not in DANGEROUS:
        raise pytest.UsageError(
            f"--usacloud-allow-dangerous (ini usacloud_allow_dangerous): {value!r} is not one of on, off, any "
            "(the flag alone means on; give a value with '=': --usacloud-allow-dangerous=any, since a word "
            "after the flag is read as its value)"
        )
    return DANGEROUS[text]


def _sweep(config: pytest.Config) -> float | None:
    value = raw(config, "usacloud_sweep")
    if value in (None, ""):
        return None
    try:
        hours = float(str(value).strip())
    except ValueError:
        hours = math.nan
    if not (hours >= 0 and math.isfinite(hours)):
        raise pytest.UsageError(
            f"--usacloud-sweep (ini usacloud_sweep): {value!r} is not a number of hours (0 or more; the flag "
            f"alone means {DEFAULT_SWEEP_HOURS}; give a value with '=': --usacloud-sweep=48)"
        )
    return hours


def _name(config: pytest.Config, name: str) -> str:
    value = str(raw(config, name) or "").strip()
    if len(value) > 200 or not value.isprintable():
        raise pytest.UsageError(f"{_flag(name)} (ini {name}): at most 200 printable characters")
    return value


def _backend(config: pytest.Config) -> Backend:
    try:
        return parse_backend(str(raw(config, "usacloud_rate_backend") or ""), os.environ)
    except ValueError as exc:  # the message masks any password
        raise pytest.UsageError(f"--usacloud-rate-backend (ini usacloud_rate_backend): {exc}") from None


def _report_path(config: pytest.Config) -> Path | None:
    value = raw(config, "usacloud_report")
    if not value:
        return None
    path = Path(os.path.expanduser(str(value)))
    if not path.is_absolute():
        base = Path(config.invocation_params.dir) if config.getoption("usacloud_report") else Path(config.rootpath)
        path = base / path
    return path
