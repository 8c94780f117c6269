"""What happened to each script: the records behind the report's ``scripts``.

A script's record is filled while its item runs and frozen once its report is made; it crosses
xdist as compact JSON text (:func:`to_wire`, far cheaper for execnet than a nested dict).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from .cleanup import CleanupRecord
from .command import CommandRecord, Line
from .fields import Count, Record, Seconds, computed, doc, from_plain, plain
from .vocabulary import Reported, ResultClass, ScriptOutcome, Verdict


@dataclass(frozen=True)
class SkippedCheck:
    """A skipped line of a commands-mode script whose exit status can decide the script's result under bash."""

    line: Line = field(metadata=doc("its line"))
    text: str = field(metadata=doc("the line as written (masked)"))
    why: str = field(metadata=doc("why bash would let it decide the result"))


@dataclass
class ScriptRecord(Record):
    """One script that finished, in the order they finished."""

    path: str = field(metadata=doc("the script's file"))
    nodeid: str = field(metadata=doc("its pytest node id (what `-k`, `--lf` and JUnit XML use)"))
    worker: str = field(default="main", metadata=doc("the xdist worker that ran it (`gw0`, ...), `main` without `-n`"))
    mode: Literal["commands", "shell"] = field(default="commands", metadata=doc("`commands` or `shell`"))
    outcome: Reported = field(default=ScriptOutcome.PASSED, metadata=doc("as pytest reported it"))
    status: Verdict = field(default=ScriptOutcome.PASSED, metadata=doc("the plugin's own verdict"))
    cls: ResultClass | None = field(
        default=None,
        metadata=doc(
            "the failure's result class (`invalid-script` for a script that could not be read; `fake-limit` for a "
            "script skipped at a limit of usacloud's fake mode)"
        ),
    )
    message: str = field(default="", metadata=doc("the failure, or the skip reason"))
    line: int | None = field(
        default=None,
        metadata=doc("the failing line (for a script that ran nothing, the first line that needs the shell)"),
    )
    start: float | None = field(default=None, metadata=doc("when its commands started; null when it never ran"))
    end: float | None = field(default=None, metadata=doc("when its commands ended"))
    skipped_lines: Count = field(
        default=0, metadata=doc("lines of the script that are not usacloud commands (never run)")
    )
    skipped_checks: Sequence[SkippedCheck] = field(
        default_factory=list,
        metadata=doc(
            "commands mode: skipped lines that can decide the script's result under bash (`test`, `jq -e` under "
            "`set -e`...); any makes the script partly run"
        ),
    )
    commands: Sequence[CommandRecord] = field(
        default_factory=list, metadata=doc("every usacloud command of the script, in order (below)")
    )
    cleanup: CleanupRecord | None = field(
        default=None,
        metadata=doc(
            "`--usacloud-cleanup=script`: the teardown right after it, as the top-level `cleanup`; null when it made "
            "nothing"
        ),
    )

    @computed("`end - start`")
    def duration(self) -> Seconds | None:
        return (self.end - self.start) if self.start is not None and self.end is not None else None

    @computed("seconds its commands waited for tokens")
    def token_wait(self) -> Seconds:
        return sum(float(c.token_wait or 0.0) for c in self.commands)

    @computed("commands executed at least once")
    def commands_run(self) -> Count:
        return sum(1 for c in self.commands if c.attempts)

    @computed("commands that failed, were refused or failed the offline check")
    def commands_failed(self) -> Count:
        return sum(1 for c in self.commands if c.failed)


def to_wire(record: ScriptRecord) -> str:
    """A record as it crosses xdist: compact JSON text (its plain data, :func:`.fields.plain`)."""
    return json.dumps(plain(record), separators=(",", ":"))


def from_wire(text: str) -> ScriptRecord | None:
    """:func:`to_wire`'s text as the (frozen) record again; None if it is not one."""
    try:
        data = json.loads(text)
        return from_plain(ScriptRecord, data) if isinstance(data, dict) else None
    except (ValueError, TypeError):
        return None
