"""What happened to each usacloud command: the records behind the report's ``commands``.

Filled while the command runs (the offline check, the policy, each attempt), frozen with its script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

from .fields import Bound, Record, Seconds, doc
from .vocabulary import DONE_STATUSES, FAILING_STATUSES, CommandStatus, ResultClass

OUTPUT_TAIL_CHARS = 4096  # per stream, in records and the JSON report
#: a skipped command's message opens with this, then the first expansion (``$ID``)
NEEDS_SHELL = "needs shell expansion: "
Line = Annotated[int, Bound(0)]


@dataclass(frozen=True)
class Finding:
    """One finding of the offline check against usacloud's command tree."""

    severity: Literal["error", "warning"] = field(metadata=doc("`error` fails the command; `warning` is only shown"))
    code: str = field(metadata=doc("what kind of finding, e.g. `unknown-subcommand`, `deprecated-alias`"))
    word: str = field(metadata=doc("the word it is about (masked)"))
    message: str = field(metadata=doc("what is wrong"))
    fix: str | None = field(default=None, metadata=doc("the suggested correction, if any"))


@dataclass
class Attempt(Record):
    """One execution of a command (a 429 is retried as a new attempt)."""

    start: float = field(metadata=doc("when it started"))
    end: float = field(metadata=doc("when it ended"))
    exit_code: int | None = field(metadata=doc("usacloud's exit code; null if it could not be started"))
    cls: ResultClass = field(metadata=doc("its result class"))
    token_wait: Seconds = field(metadata=doc("seconds it waited for a rate-limit token"))
    token_at: float | None = field(
        default=None, metadata=doc("when the token bucket admitted it; null without a limiter")
    )


@dataclass
class CommandRecord(Record):
    """One usacloud command of a script, in script order."""

    line: Line = field(metadata=doc("the line it starts on"))
    text: str = field(metadata=doc("the command as written in the script (masked)"))
    words: Sequence[str] = field(
        default_factory=list,
        metadata=doc(
            "the words run, after the sandbox policy (zone pinned to tk1v; masked); empty when it never got that far"
        ),
    )
    written: Sequence[str] = field(
        default_factory=list,
        metadata=doc(
            "the same words as the script wrote them, before the policy (masked); the offline check reads these; "
            "empty when it never got that far"
        ),
    )
    zone_rewritten: bool = field(default=False, metadata=doc("the policy changed a zone in it"))
    status: CommandStatus = field(default=CommandStatus.NOT_RUN, metadata=doc("what happened to it"))
    cls: ResultClass | None = field(default=None, metadata=doc("its result class"))
    message: str = field(
        default="",
        metadata=doc("what went wrong, or why it was skipped (for `fake-hang`, the note saying what was visible)"),
    )
    hint: str | None = field(default=None, metadata=doc("what to do about it"))
    exit_code: int | None = field(
        default=None,
        metadata=doc(
            "usacloud's exit code (of the last attempt); null if it never ran or could not be started; "
            "negative when a signal ended it (`-15`: SIGTERM)"
        ),
    )
    start: float | None = field(default=None, metadata=doc("the first attempt's start; null if it never ran"))
    end: float | None = field(default=None, metadata=doc("the last attempt's end"))
    duration: Seconds | None = field(default=None, metadata=doc("`end - start` (backoff between retries included)"))
    token_wait: Seconds = field(default=0.0, metadata=doc("seconds waited for tokens, all attempts together"))
    attempts: Sequence[Attempt] = field(default_factory=list, metadata=doc("each execution (below)"))
    stdout_tail: str = field(
        default="",
        metadata=doc(
            f"the last {OUTPUT_TAIL_CHARS} characters of standard output (masked; terminal control sequences removed, "
            "other control characters escaped as `\\xNN`)"
        ),
    )
    stderr_tail: str = field(default="", metadata=doc("the same for standard error"))
    findings: Sequence[Finding] = field(default_factory=list, metadata=doc("the offline check's findings (below)"))

    @property
    def failed(self) -> bool:
        return self.status in FAILING_STATUSES

    @property
    def done(self) -> bool:
        """It ran (or, in a dry-run, would run)."""
        return self.status in DONE_STATUSES


def tail(text: str, limit: int = OUTPUT_TAIL_CHARS) -> str:
    return text if len(text) <= limit else text[-limit:]
