"""The options table: every command-line option and its ini key of the same name, and how each is checked.

On the command line argparse checks a value (``type=``, ``choices=``, ``BooleanOptionalAction``); in
the ini file pytest's typed values and then the same check (:meth:`Option.from_ini`). Adding an option:
one :class:`Option` row in :data:`OPTIONS` and one ``Settings`` field of its name without ``usacloud_``
(or ``field=``); a value that needs the machine or another option gets a line in ``settings.load``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest

ERROR_POLICIES = ("continue", "stop", "critical")
PROGRESS_MODES = ("auto", "on", "off")
GITHUB_MODES = ("auto", "on", "off")
COLLECT_MODES = ("paths", "anywhere")
MODES = ("commands", "shell")
CLEANUP_MODES = ("run", "script", "off")
DEFAULT_MAX_WORKERS = 10
DEFAULT_SWEEP_HOURS = "24"
#: --usacloud-allow-dangerous[=WHAT]: off, on (on what this run created) or any (on anything)
_DANGEROUS = {"off": "off", "false": "off", "no": "off", "0": "off", "": "off"}
_DANGEROUS |= {"on": "on", "true": "on", "yes": "on", "1": "on", "any": "any"}
NAME_CHARS = 200


# -- value checks: each takes the text of the command line or a typed ini value ---------------


def seconds(value) -> float:
    """A positive, finite number of seconds."""
    number = _number(value)
    if not (number > 0 and math.isfinite(number)):
        raise ValueError(f"must be a positive number of seconds, not {value!r}")
    return number


def per_second(value) -> float:
    """Commands per second, or 'unlimited' (infinity)."""
    if str(value).strip().lower() == "unlimited":
        return math.inf
    number = _number(value)
    if not number > 0:
        raise ValueError(f"must be more than 0 commands per second (or 'unlimited'), not {value!r}")
    return number


def at_least(minimum: int) -> Callable[[object], int]:
    def whole(value) -> int:
        number = _parsed(value, int, "a whole number")
        if number < minimum:
            raise ValueError(f"must be at least {minimum}, not {number}")
        return number

    whole.__name__ = f"whole number >= {minimum}"
    return whole


def text_name(value) -> str:
    text = str(value or "").strip()
    if len(text) > NAME_CHARS or not text.isprintable():
        raise ValueError(f"at most {NAME_CHARS} printable characters")
    return text


def dangerous_mode(value) -> str:
    """``off``, ``on`` (deletes touch only what this run created) or ``any``; true/false too."""
    text = ("on" if value else "off") if isinstance(value, bool) else _word(value or "")
    if text not in _DANGEROUS:
        raise ValueError(
            f"{value!r} is not one of on, off, any (the flag alone means on; give a value with '=': "
            "--usacloud-allow-dangerous=any, since a word after the flag is read as its value)"
        )
    return _DANGEROUS[text]


def hours(value) -> float | None:
    """A number of hours, 0 or more; None for no value (no sweep)."""
    if value in (None, ""):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        number = math.nan
    if not (number >= 0 and math.isfinite(number)):
        raise ValueError(
            f"{value!r} is not a number of hours (0 or more; the flag alone means {DEFAULT_SWEEP_HOURS}; "
            "give a value with '=': --usacloud-sweep=48)"
        )
    return number


def _parsed(value, convert: Callable[[str], float], what: str):
    """``convert`` of the value's text (a boolean is not a number)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not {what}")
    try:
        return convert(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not {what}") from None


def _number(value) -> float:
    number = _parsed(value, float, "a number")
    if math.isnan(number):
        raise ValueError("NaN is not a valid value")
    return number


def _word(value) -> str:
    return str(value).strip().lower()


def _argparse_type(check: Callable[[object], object]):
    """``check`` for argparse: its message as the error (argparse names the option)."""

    def convert(text: str):
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = getattr(check, "__name__", "value")
    return convert


# -- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One setting: a command-line option and the ini key of the same name."""

    name: str  # ini key, e.g. "usacloud_rate"; the option is --usacloud-rate
    help: str
    default: object = None
    kind: str = "value"  # value | bool (--X and --no-X) | paths (repeatable) | optional (the flag alone: const)
    check: Callable[[object], object] | None = None  # argparse's type= and the ini value's check
    choices: tuple[str, ...] | None = None  # case-insensitive
    ini: str = "string"  # pytest's ini type: string | int | float | bool | args
    metavar: str | None = None
    shown_default: str | None = None  # how the default reads in --help and the README, when not the value
    field: str | None = None  # the Settings field; default: the name without "usacloud_"
    const: str | None = None  # kind optional: the value of the flag given without one

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def attribute(self) -> str:
        return self.field or self.name.removeprefix("usacloud_")

    @property
    def default_text(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        if self.kind == "bool":
            return "on" if self.default else "off"
        return str(self.default) if self.default not in (None, "", ()) else "none"

    def add_to(self, parser: pytest.Parser, group) -> None:
        ini_type = {"bool": "bool", "paths": "args"}.get(self.kind, self.ini)
        parser.addini(self.name, self.help, type=ini_type, default=self.default)
        text = f"{self.help} (ini too; default: {self.default_text})"
        if self.kind == "bool":
            group.addoption(self.flag, action=argparse.BooleanOptionalAction, default=None, dest=self.name, help=text)
        elif self.kind == "paths":
            group.addoption(self.flag, action="append", default=None, dest=self.name, metavar=self.metavar, help=text)
        elif self.kind == "optional":  # --flag alone, or --flag=VALUE
            group.addoption(
                self.flag,
                nargs="?",
                const=self.check(self.const) if self.check else self.const,
                default=None,
                dest=self.name,
                metavar=self.metavar,
                help=text,
                type=_argparse_type(self.check) if self.check else str,
            )
        else:
            group.addoption(
                self.flag,
                default=None,
                dest=self.name,
                metavar=self.metavar,
                help=text,
                type=_word if self.choices else _argparse_type(self.check) if self.check else str,
                choices=self.choices,
            )

    def from_ini(self, value):
        """The ini file's value (already typed by pytest) through the same check as the command line."""
        if self.choices:
            word = _word(value)
            if word not in self.choices:
                raise ValueError(f"invalid choice: {word!r} (choose from {', '.join(map(repr, self.choices))})")
            return word
        return self.check(value) if self.check else value


def _seconds(name: str, help: str, default: float) -> Option:
    return Option(name, help, default, check=seconds, ini="float", metavar="SECONDS")


def _whole(name: str, help: str, default: int, minimum: int, metavar: str = "N") -> Option:
    return Option(name, help, default, check=at_least(minimum), ini="int", metavar=metavar)


OPTIONS = (
    Option(
        "usacloud_scripts",
        "directory or file of *.usacloud scripts to collect (repeatable)",
        (),
        "paths",
        metavar="PATH",
    ),
    Option("usacloud_script_glob", "file name pattern of usacloud scripts", "*.usacloud", metavar="GLOB"),
    Option(
        "usacloud_collect",
        "where scripts are collected: paths (under --usacloud-scripts, or named on the command line) "
        "or anywhere pytest looks",
        "paths",
        choices=COLLECT_MODES,
        metavar="WHERE",
    ),
    Option(
        "usacloud_bin",
        "the usacloud executable (a path, or a name found on PATH)",
        "usacloud",
        metavar="PATH",
        field="usacloud_bin",
    ),
    _seconds("usacloud_timeout", "seconds one usacloud command may run before its process group is terminated", 300),
    _seconds("usacloud_script_timeout", "seconds a whole script may run (shell mode)", 1800),
    Option("usacloud_dry_run", "execute nothing: check every command offline and show what would run", False, "bool"),
    Option(
        "usacloud_preflight",
        "before any script runs, check usacloud and the credentials with one read-only call "
        "(usacloud auth-status) and end the session if it fails",
        True,
        "bool",
    ),
    Option(
        "usacloud_fake",
        "run usacloud's own fake driver (SAKURACLOUD_FAKE_MODE=1) with dummy credentials, one fake store per script",
        False,
        "bool",
    ),
    _seconds(
        "usacloud_fake_timeout",
        "seconds one usacloud command may run in fake mode (usacloud's fake driver can hang after a change)",
        30,
    ),
    Option(
        "usacloud_allow_dangerous",
        "allow delete, power (boot, shutdown, reset, send-nmi), disconnect/disable and connect subcommands "
        "and updates that power-cycle (a plan change) on what this run created (=any: on anything their "
        "targets match)",
        "off",
        "optional",
        check=dangerous_mode,
        metavar="any",
        const="on",
    ),
    Option(
        "usacloud_allow_global_writes",
        "allow changes to global resources (dns, note, icon, a mobile gateway's SIMs, ...), which tk1v does "
        "not isolate",
        False,
        "bool",
    ),
    Option(
        "usacloud_allow_profiles",
        "let usacloud read this machine's profiles (~/.usacloud, ...) and `config create/edit/use/delete` "
        "write them; by default it sees only the run's environment, so a profile cannot choose the zone, "
        "the key or the API root",
        False,
        "bool",
    ),
    Option(
        "usacloud_rate",
        "usacloud commands per second, shared by every worker and run with the same API key ('unlimited' for none)",
        "2.0",
        check=per_second,
        metavar="PER_SECOND",
    ),
    _whole("usacloud_burst", "token bucket size: commands that may start at once", 1, minimum=1),
    _whole("usacloud_retries", "retries of a command refused for rate (429), with exponential backoff", 3, minimum=0),
    _seconds("usacloud_retry_backoff", "seconds before the first retry of a 429; doubles each time, with jitter", 1.0),
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
        check=text_name,
        metavar="NAME",
    ),
    Option(
        "usacloud_shard",
        "this run's name in its run group, shown in the other shards' skip reasons",
        "",
        check=text_name,
        metavar="NAME",
        shown_default="host:pid",
    ),
    _whole("usacloud_max_workers", "the most xdist workers a usacloud run may use", DEFAULT_MAX_WORKERS, minimum=1),
    Option(
        "usacloud_error_policy",
        "what a failure does to the other scripts: continue, stop or critical",
        "critical",
        choices=ERROR_POLICIES,
        metavar="POLICY",
    ),
    Option(
        "usacloud_strict",
        "a partly run script fails (some of its commands were skipped because they need the shell, or skipped "
        "lines can decide its result)",
        False,
        "bool",
    ),
    Option("usacloud_progress", "live progress: auto, on or off", "auto", choices=PROGRESS_MODES, metavar="MODE"),
    _seconds("usacloud_progress_interval", "seconds between plain progress lines when not on a terminal", 10),
    Option(
        "usacloud_github",
        "GitHub Actions annotations and step summary: auto (when GITHUB_ACTIONS=true), on or off",
        "auto",
        choices=GITHUB_MODES,
        metavar="MODE",
    ),
    Option("usacloud_report", "write a JSON record of every script and command to this path", "", metavar="PATH"),
    Option(
        "usacloud_mode",
        "commands (run each usacloud command, no shell) or shell (run the script under bash)",
        "commands",
        choices=MODES,
        metavar="MODE",
    ),
    Option(
        "usacloud_cleanup",
        "what the run removes of what it created (it tags every create): run (all of it after the last script), "
        "script (each script's right after it) or off (keep it; the summary says how to remove it)",
        "run",
        choices=CLEANUP_MODES,
        metavar="WHEN",
    ),
    _seconds("usacloud_cleanup_timeout", "seconds the teardown may take before it stops and lists what remains", 600),
    Option(
        "usacloud_allow_leftovers",
        "the session may pass although the teardown left something the run created (by default that "
        "fails it: exit code 1)",
        False,
        "bool",
    ),
    Option(
        "usacloud_sweep",
        "run no script: remove what earlier runs left, every resource carrying a run tag of this plugin "
        f"older than HOURS (default {DEFAULT_SWEEP_HOURS})",
        "",
        "optional",
        check=hours,
        metavar="HOURS",
        const=DEFAULT_SWEEP_HOURS,
    ),
    _whole(
        "usacloud_max_script_bytes",
        "scripts larger than this fail without being parsed",
        1024 * 1024,
        minimum=1,
        metavar="BYTES",
    ),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("usacloud", "usacloud sandbox scripts")
    for opt in OPTIONS:
        opt.add_to(parser, group)


def raw(config: pytest.Config, name: str):
    """Command line first, then the ini file, then the default (as given, before any check)."""
    value = config.getoption(name)
    if value is not None:
        return value
    return config.getini(name)
