"""The --usacloud-report document: its run section, its shape, and how it is written.

The document is :class:`Report`: the run's metadata and totals (:class:`RunSection`), the run's
cleanup, and every finished script's record. Its schema and docs/report-schema.md are made from
these dataclasses and the records in them (:mod:`.schema`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from ..record.cleanup import CleanupRecord
from ..record.fields import Bound, Count, Seconds, computed, doc, plain
from ..record.preflight import Preflight
from ..record.script import ScriptRecord
from ..record.vocabulary import Reported, ScriptOutcome
from ..state.atomicfile import atomic_write
from .reprs import printable

SCHEMA_NAME = "pytest-usacloud-sandbox/report"
SCHEMA_VERSION = 3  # goes up whenever a field is added, removed or changes meaning
_VERDICT_OF = {ScriptOutcome.XFAILED: ScriptOutcome.FAILED, ScriptOutcome.XPASSED: ScriptOutcome.PASSED}


@dataclass(frozen=True)
class RunSection:
    """The run's metadata and totals."""

    start: float = field(metadata=doc("when the session started"))
    end: float = field(metadata=doc("when the report was written"))
    options: Mapping[str, Any] = field(
        metadata=doc("the plugin's options in effect (names as the ini keys), credentials masked")
    )
    plugin_version: str = field(metadata=doc("this plugin's version"))
    usacloud_version: str | None = field(
        metadata=doc("what `usacloud version` printed; null in dry-run or when it could not be asked")
    )
    preflight: Preflight | None = field(
        metadata=doc(
            "the check of usacloud and the credentials before any script ran; null in a dry-run and with "
            "`--no-usacloud-preflight`"
        )
    )
    workers: Count = field(metadata=doc("xdist workers (0 without `-n`)"))
    rate: Annotated[float, Bound(0, exclusive=True)] | None = field(
        metadata=doc("the configured commands per second; null means `unlimited`")
    )
    burst: Annotated[int, Bound(1)] = field(metadata=doc("the token bucket's size"))
    backend: str = field(
        metadata=doc(
            "where the token bucket lives (`file:PATH` or a Redis URL, password masked); empty for the default"
        )
    )
    dry_run: bool = field(metadata=doc("`--usacloud-dry-run`: nothing was executed"))
    interrupted: bool = field(metadata=doc("the run ended early: Ctrl-C, SIGTERM, or a stop by the error policy"))
    stop_reason: str | None = field(
        metadata=doc("why it stopped early, e.g. `run stopped by a.usacloud::a (auth): ...`")
    )
    scripts_total: Count = field(metadata=doc("scripts collected to run"))
    scripts_finished: Count = field(metadata=doc("scripts with a result (the length of `scripts`)"))
    outcomes: Mapping[Reported, Count] = field(metadata=doc("scripts by outcome"))
    partly_run: Count = field(metadata=doc("scripts that passed with some commands or deciding lines skipped"))
    commands: Count = field(metadata=doc("usacloud commands in the finished scripts"))
    commands_run: Count = field(metadata=doc("of those, commands executed at least once"))
    commands_by_class: Mapping[str, Count] = field(
        metadata=doc(
            "commands by result class, or by status when a command has no class (`not-run`, `skipped`, `dry-run`)"
        )
    )
    attempts: Count = field(metadata=doc("executions, retries included (each took a token)"))
    retries: Count = field(metadata=doc("executions beyond the first (429 retries)"))
    refused: Count = field(metadata=doc("commands the sandbox policy refused (never executed)"))
    token_wait: Seconds = field(metadata=doc("seconds spent waiting for rate-limit tokens, all commands together"))
    achieved_rate: Annotated[float, Bound(0)] = field(
        metadata=doc(
            "starts per second beyond the burst, from the first start (token grant) to the last: "
            "(starts - burst) / span, never above the rate while the bucket held it; 0 with too few starts"
        )
    )

    @computed("`start` as ISO 8601 UTC (`2024-05-01T09:30:00.123Z`)")
    def start_utc(self) -> str:
        return utc(self.start)

    @computed("`end` as ISO 8601 UTC")
    def end_utc(self) -> str:
        return utc(self.end)

    @computed("`end - start`")
    def duration(self) -> Seconds:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True, kw_only=True)
class Report:
    """The pytest-usacloud-sandbox report."""

    schema: Literal[SCHEMA_NAME] = field(default=SCHEMA_NAME, metadata=doc(f'`"{SCHEMA_NAME}"`'))
    schema_version: Literal[SCHEMA_VERSION] = field(default=SCHEMA_VERSION, metadata=doc(f"`{SCHEMA_VERSION}`"))
    run: RunSection = field(metadata=doc("the run's metadata and totals (below)"))
    cleanup: CleanupRecord | None = field(
        default=None,
        metadata=doc("what the run created and removed (below); absent in a dry-run", absent_when_none=True),
    )
    scripts: Sequence[ScriptRecord] = field(
        default_factory=tuple, metadata=doc("one object per script that finished, in the order they finished")
    )


def script_entry(record: ScriptRecord) -> dict:
    """One script of the report's ``scripts``: its record as plain data, every string made printable."""
    return _printable(plain(record))


def stand_in(nodeid: str, where: str, outcome: ScriptOutcome, longrepr: str | None) -> ScriptRecord:
    """The record of a script that has none (an error before it ran): pytest's outcome and message."""
    return ScriptRecord(
        path=where,
        nodeid=nodeid,
        outcome=outcome,
        status=_VERDICT_OF.get(outcome, outcome),
        message=one_line(longrepr or "", 1000),
    ).freeze()


def write(path: Path, report: Report, scripts: Iterable[str]) -> None:
    """``report`` as one JSON document with ``scripts`` (each one entry's JSON text) streamed into
    it, replacing ``path`` atomically.

    The file gets the permissions pytest's JUnit file would get: an existing file keeps its mode,
    a new one is readable as the umask allows (not the private mode of a temporary file).
    """
    head = _printable(plain(report))
    head.pop("scripts", None)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(path)
    with atomic_write(path, fsync=True) as out:
        os.fchmod(out.fileno(), mode)
        prefix = json.dumps(head, indent=1, default=str)
        out.write(prefix[: prefix.rindex("}")].rstrip() + ',\n "scripts": [')
        first = True
        for line in scripts:
            out.write(("\n  " if first else ",\n  ") + line)
            first = False
        out.write("\n ]\n}\n")


def _mode_for(path: Path) -> int:
    """The mode ``open(path, "w")`` would leave: an existing file's, else 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _printable(value):
    """Every string in plain data made safe (no terminal control sequences reach the report)."""
    kind = type(value)
    if kind is str:
        return printable(value)
    if kind is dict:
        return {k: _printable(v) for k, v in value.items()}
    if kind is list:
        return [_printable(v) for v in value]
    return value


def one_line(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
