"""What happened to each command and script: plain data that crosses xdist and lands in the report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

OUTPUT_TAIL_CHARS = 4096  # per stream, in records and the JSON report


class CommandStatus(StrEnum):
    RAN = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # needs shell expansion: never run with literal text
    REFUSED = "refused"
    NOT_RUN = "not-run"  # after the script's first failure
    CANCELLED = "cancelled"
    DRY_RUN = "dry-run"  # checked, would run
    INVALID = "invalid"  # failed the offline check
    UNSUPPORTED = "unsupported"  # fake mode: usacloud's fake driver cannot do it (class fake-limit)


class ScriptStatus(StrEnum):
    """The plugin's own verdict on a script (pytest's outcome adds xfail and cancel on top)."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing ran
    CANCELLED = "cancelled"
    ERROR = "error"


RAN = CommandStatus.RAN
FAILED = CommandStatus.FAILED
SKIPPED = CommandStatus.SKIPPED
REFUSED = CommandStatus.REFUSED
NOT_RUN = CommandStatus.NOT_RUN
CANCELLED = CommandStatus.CANCELLED
DRY_RUN = CommandStatus.DRY_RUN
INVALID = CommandStatus.INVALID
UNSUPPORTED = CommandStatus.UNSUPPORTED
#: what counts as "the command ran" (or, in a dry-run, would run)
DONE = frozenset({RAN, DRY_RUN})
#: a skipped command's message opens with this, then the first expansion (``$ID``)
NEEDS_SHELL = "needs shell expansion: "


@dataclass
class Attempt:
    start: float
    end: float
    exit_code: int | None
    cls: str
    token_wait: float
    token_at: float | None = None  # when the token bucket admitted this attempt


@dataclass
class CommandRecord:
    line: int
    text: str  # as written (masked)
    words: list[str] = field(default_factory=list)  # after the policy (masked)
    written: list[str] = field(default_factory=list)  # the words as written, before the policy (masked)
    zone_rewritten: bool = False
    status: str = NOT_RUN
    cls: str | None = None
    message: str = ""
    hint: str | None = None
    exit_code: int | None = None
    start: float | None = None
    end: float | None = None
    duration: float | None = None
    token_wait: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)
    stdout_tail: str = ""
    stderr_tail: str = ""
    findings: list[dict] = field(default_factory=list)  # offline check: severity, code, word, message, fix

    @property
    def failed(self) -> bool:
        return self.status in (FAILED, REFUSED, INVALID)


@dataclass
class ScriptRecord:
    path: str
    nodeid: str
    worker: str = "main"
    mode: str = "commands"
    status: str = ScriptStatus.PASSED
    cls: str | None = None  # the failure class
    message: str = ""
    line: int | None = None  # the failing line
    start: float | None = None
    end: float | None = None
    skipped_lines: int = 0
    commands: list[CommandRecord] = field(default_factory=list)
    cleanup: dict | None = None  # --usacloud-cleanup=script: the teardown right after it (cleanup.results)

    @property
    def commands_run(self) -> int:
        return sum(1 for c in self.commands if c.attempts)

    @property
    def commands_failed(self) -> int:
        return sum(1 for c in self.commands if c.failed)

    def to_dict(self) -> dict:
        """Plain data: built-in types only (enum members become their strings), nothing shared with
        this record. Written out by hand: ``dataclasses.asdict`` deep-copies every value and cost a
        worker 0.3 ms a script."""
        data = _plain(vars(self))
        data["commands"] = [command_dict(c) for c in self.commands]
        data["commands_run"] = self.commands_run
        data["commands_failed"] = self.commands_failed
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ScriptRecord:
        data = dict(data)
        data.pop("commands_run", None)
        data.pop("commands_failed", None)
        cmds = []
        for c in data.pop("commands", []):
            c = dict(c)
            c["attempts"] = [Attempt(**a) for a in c.get("attempts", [])]
            cmds.append(CommandRecord(**c))
        return cls(commands=cmds, **data)


def command_dict(cmd: CommandRecord) -> dict:
    """A command's record as plain data (built-in types only, nothing shared with it)."""
    data = _plain(vars(cmd))
    data["words"] = list(cmd.words)
    data["written"] = list(cmd.written)
    data["attempts"] = [_plain(vars(a)) for a in cmd.attempts]
    data["findings"] = [_plain(f) for f in cmd.findings]
    return data


def _plain(fields: dict) -> dict:
    """A copy of one level of fields, enum members as their strings."""
    return {key: _value(value) for key, value in fields.items()}


def _value(value):
    return str(value) if isinstance(value, StrEnum) else value


def to_wire(data: dict) -> str:
    """A record's dict (:meth:`ScriptRecord.to_dict`) as it crosses xdist: compact JSON text. One
    string is far cheaper for execnet to send than its walk of a nested dict (0.3 ms a script)."""
    return json.dumps(data, separators=(",", ":"))


def from_wire(text: str) -> dict | None:
    """:func:`to_wire`'s text as the dict again (None if it is not one)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def tail(text: str, limit: int = OUTPUT_TAIL_CHARS) -> str:
    return text if len(text) <= limit else text[-limit:]
