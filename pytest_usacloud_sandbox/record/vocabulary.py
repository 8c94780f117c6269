"""The plugin's words for what happened: each concept is one enum, defined here only.

:class:`CommandStatus` (what happened to a command), :class:`ResultClass` (why: a ``cls``),
:class:`ScriptOutcome` (what a script's item is, in pytest's words and the plugin's own ``cancelled``
and ``partly run``), :class:`ResourceResult` (cleanup), :class:`PreflightCause`. A member's value is
the word users see in the terminal, JUnit and the JSON report; its ``doc`` says what it means.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args


class Word(StrEnum):
    """A word of the vocabulary: its value as users see it, and ``doc``, what it means."""

    def __new__(cls, value: str, doc: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.doc = doc
        return member


class CommandStatus(Word):
    """What happened to one usacloud command: its record's ``status``."""

    OK = "ok", "it ran and did its work (class `ok`, or `fake-hang`)"
    FAILED = "failed", "it ran and failed; its class says why"
    SKIPPED = "skipped", "it needs shell expansion (`$ID`), so it never ran with literal text"
    REFUSED = "refused", "the sandbox policy refused it; it never ran"
    NOT_RUN = "not-run", "after the script's first failure"
    CANCELLED = "cancelled", "the run was stopped before or while it ran, or (shell mode) the script killed it"
    DRY_RUN = "dry-run", "checked, would run (`--usacloud-dry-run`)"
    INVALID = "invalid", "it failed the offline check; it never ran"
    UNSUPPORTED = (
        "unsupported",
        "fake mode: usacloud's fake driver cannot do it (class `fake-limit`); the script is skipped",
    )


#: the command ran (or, in a dry-run, would run)
DONE_STATUSES = frozenset({CommandStatus.OK, CommandStatus.DRY_RUN})
#: the command counts as a failure of its script
FAILING_STATUSES = frozenset({CommandStatus.FAILED, CommandStatus.REFUSED, CommandStatus.INVALID})


class ResultClass(Word):
    """Why a command, an attempt or a failed script ended as it did: its ``cls``."""

    OK = "ok", "it did its work"
    AUTH = "auth", "401: the API key was refused"
    PERMISSION = "permission", "403: the API key may not do it"
    NOT_FOUND = "not-found", "404, or no resource matched in the zone"
    CONFLICT = "conflict", "409 or 423: the resource is in use or in the way"
    RATE_LIMITED = "rate-limited", "429: the API refused for rate, also after the retries"
    UNAVAILABLE = "unavailable", "503, or usacloud's own retries gave up (`giving up after`)"
    TIMEOUT = "timeout", "it ran longer than its timeout"
    USAGE = "usage", "an unknown command or flag, a validation error, a missing `-y`"
    CONFIG = "config", "a set-up error usacloud prints while exiting 0 (a profile, a key file)"
    MISSING_BINARY = "missing-binary", "usacloud (or bash, in shell mode) could not be started"
    REFUSED = "refused", "the sandbox policy refused it"
    CRASHED = "crashed", "a signal or a Go panic ended it"
    API_ERROR = "api-error", "another error of the API"
    ERROR = "error", "any other error"
    CANCELLED = "cancelled", "the run was stopped"
    LIMITER = "limiter-unavailable", "the shared rate-limit state could not be reached"
    INVALID_SCRIPT = "invalid-script", "the script could not be read or parsed"
    SCRIPT_EXIT = "script-exit", "shell mode: bash exited non-zero"
    PARTLY_RUN = (
        "partly-run",
        "`--usacloud-strict`: some commands were skipped because they need the shell, or skipped lines can decide "
        "the result",
    )
    FAKE_HANG = "fake-hang", "fake mode: it hung after its effect was visible, and counts as done (status `ok`)"
    FAKE_LIMIT = "fake-limit", "fake mode: usacloud's fake driver cannot do it (status `unsupported`)"


#: failures that every other script would hit the same way: they stop a run under ``critical``
CRITICAL_CLASSES = frozenset(
    {ResultClass.AUTH, ResultClass.PERMISSION, ResultClass.MISSING_BINARY, ResultClass.CONFIG, ResultClass.LIMITER}
)


class ScriptOutcome(Word):
    """What a script's item is: a record's ``status`` and ``outcome``, JUnit's ``usacloud_status``."""

    PASSED = "passed", "its commands ran (or, in a dry-run, would run) and did their work"
    FAILED = "failed", "a command failed, was refused or failed the offline check, or the script could not be read"
    SKIPPED = (
        "skipped",
        "nothing ran (its commands need the shell, or it has none), fake mode could not do a command, or a skip marker",
    )
    CANCELLED = "cancelled", "skipped because the run was stopped"
    PARTLY_RUN = (
        "partly run",
        "passed, but some commands were skipped because they need the shell, or skipped lines (a `test`, a `jq -e` "
        "under `set -e`) can decide the result",
    )
    XFAILED = "xfailed", "failed, as an `xfail` marker expected"
    XPASSED = "xpassed", "passed although an `xfail` marker expected it to fail"


#: a script record's ``status``: the plugin's own verdict, before pytest's xfail
Verdict = Literal[ScriptOutcome.PASSED, ScriptOutcome.FAILED, ScriptOutcome.SKIPPED, ScriptOutcome.CANCELLED]
#: the report's ``outcome``: the script's result as pytest reported it (cancelled: a skip caused by a stop)
Reported = Literal[
    ScriptOutcome.PASSED,
    ScriptOutcome.FAILED,
    ScriptOutcome.SKIPPED,
    ScriptOutcome.CANCELLED,
    ScriptOutcome.XFAILED,
    ScriptOutcome.XPASSED,
]
REPORTED: tuple[ScriptOutcome, ...] = get_args(Reported)


class ResourceResult(Word):
    """What became of a resource the run created (or, in a sweep, an earlier run left)."""

    DELETED = "deleted", "the teardown (or the sweep) deleted it, or it was already gone"
    LEFT = "left", "it is still there: `reason` says why"
    KEPT = "kept", "`--usacloud-cleanup=off` kept it"
    DISCARDED = "discarded", "fake mode: its fake store went with its worker's run directory"


class PreflightCause(Word):
    """What the preflight found, as its one message names it."""

    OK = "ok", "the call passed"
    MISSING = "usacloud missing", "usacloud could not be started, or printed no version"
    VERSION = "usacloud version", "usacloud is not the version the command table describes"
    NO_CREDENTIALS = "no credentials", "401, and no key was given"
    BAD_KEY = "bad key (401)", "401: the key given was refused"
    FORBIDDEN = "key not allowed (403)", "403: the key may not read its own account"
    UNREACHABLE = "API unreachable", "the API could not be reached, or did not answer in time"
    PROFILE = "profile", "usacloud could not load its profile"
    RATE_LIMITED = "rate limited (429)", "429"
    NO_OUTPUT = "no output", "usacloud exited 0 and printed nothing (or only an error)"
    ERROR = "error", "anything else, such as output that is not the account as JSON"
    LIMITER = "rate-limit state unreachable", "the shared rate-limit state could not be reached"
    CANCELLED = "cancelled", "the run was stopped"


#: every concept of the vocabulary, in the order the report's docs list them
WORDS = (CommandStatus, ResultClass, ScriptOutcome, ResourceResult, PreflightCause)
