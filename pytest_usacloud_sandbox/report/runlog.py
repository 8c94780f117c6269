"""The controller's account of the run: counts for the live status line and the summary, and the
JSON record of results.

Memory stays flat however many scripts run: per script only counters are kept (plus one entry per
failed or partly run script); each finished script's record goes to a JSON-lines file in the run
directory (with a report to write, or in a dry-run for its listing) and is streamed from there.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..record.cleanup import CleanupRecord
from ..record.command import CommandRecord
from ..record.preflight import Preflight
from ..record.script import ScriptRecord
from ..record.vocabulary import REPORTED, CommandStatus, ResultClass, ScriptOutcome
from ..usacloud.mask import mask_url
from . import document, statusline, summary
from .document import Report, RunSection, one_line, script_entry, stand_in
from .reprs import printable, script_path

SCRIPTS_FILE = "report-scripts.jsonl"
SLOWEST = 5
MAX_WARNINGS = 50  # warning lines kept for the summary; the rest are only counted
MESSAGE_CHARS = 200


@dataclass(frozen=True)
class Failed:
    """One failed script, for the summary and GitHub's annotations."""

    where: str  # the script's path as in its node id
    line: int | None
    cls: str  # the failure's result class ("error" when there is none)
    message: str


@dataclass(frozen=True)
class Partly:
    """A script that passed with some of its commands skipped (they need the shell), or with skipped
    lines that can decide its result (``checks``)."""

    where: str
    ran: int
    commands: int
    skipped: int
    checks: int = 0


class RunLog:
    def __init__(self, settings, run_dir: Path, started: float, masked_options: dict, backend: str, workers: int):
        self.settings = settings
        self.run_dir = Path(run_dir)
        self.started = started
        self.options = masked_options  # already masked by the caller; used verbatim
        self.backend = mask_url(str(backend or ""))
        self.workers = workers
        self.total: int | None = None  # None while collecting
        self.counts = dict.fromkeys(REPORTED, 0)
        self.by_class: dict[str, int] = {}
        # commands in finished scripts; of those, run at least once; attempts (tokens); retries; refused
        self.commands = self.commands_run = self.attempts = self.retries = self.refused = 0
        self.token_wait = 0.0
        self.starts = 0  # attempts with a known start (their token's grant, or their own start)
        self.first_grant = self.last_grant = 0.0
        self.failed: list[Failed] = []
        self.partly: list[Partly] = []
        self.cancel_reasons: dict[str, int] = {}  # why scripts were cancelled (a few distinct texts)
        self.warnings: list[str] = []
        self.more_warnings = 0
        self.running: dict[str, float] = {}  # node id -> when it started
        self.first_start: float | None = None
        self._slowest: list[tuple[float, int, str]] = []  # min-heap of (duration, seq, line)
        self._seq = 0
        self._live: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._jsonl = None
        self.phase: str | None = None  # after the scripts: what the run does now ("cleaning up ...")
        self.cleanup: CleanupRecord | None = None  # the report's cleanup section
        self.keep_records = bool(getattr(settings, "report", None) or getattr(settings, "dry_run", False))

    @property
    def glob(self) -> str:
        return getattr(self.settings, "script_glob", "*.usacloud")

    def where(self, nodeid: str) -> str:
        """The script's path as its node id shows it (also when the path holds ``::``)."""
        return script_path(nodeid, self.glob) or nodeid.split("::", 1)[0]

    # -- collecting ---------------------------------------------------------------------------

    def set_total(self, n: int) -> None:
        self.total = int(n)

    def script_started(self, nodeid: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            self.running[nodeid] = now
            if self.first_start is None:
                self.first_start = now

    def script_finished(
        self, nodeid: str, outcome: ScriptOutcome, record: ScriptRecord | None, report_longrepr_text: str | None
    ) -> None:
        """Count a finished script (``record`` None: it has none, an error before it ran) and keep its entry."""
        with self._lock:
            self.running.pop(nodeid, None)
            self.counts[outcome] = self.counts.get(outcome, 0) + 1
            where = self.where(nodeid)
            commands = record.commands if record is not None else ()
            for cmd in commands:
                self._command(where, cmd)
            if outcome == ScriptOutcome.FAILED:
                self.failed.append(_failed(where, record, report_longrepr_text))
            elif outcome == ScriptOutcome.CANCELLED:
                reason = (record.message if record else "") or _first_line(report_longrepr_text or "") or "cancelled"
                reason = one_line(printable(reason), MESSAGE_CHARS)
                self.cancel_reasons[reason] = self.cancel_reasons.get(reason, 0) + 1
            elif outcome == ScriptOutcome.PASSED and commands:
                skipped = sum(1 for c in commands if c.status == CommandStatus.SKIPPED)
                checks = len(record.skipped_checks) if record is not None else 0
                if skipped or checks:
                    ran = sum(1 for c in commands if c.done)
                    self.partly.append(Partly(where, ran, len(commands), skipped, checks))
            if self.keep_records:
                if record is None:
                    record = stand_in(nodeid, where, outcome, report_longrepr_text)
                self._append(script_entry(record))

    def _command(self, where: str, cmd: CommandRecord) -> None:
        self.commands += 1
        key = str(cmd.cls or cmd.status or "unknown")
        self.by_class[key] = self.by_class.get(key, 0) + 1
        for attempt in cmd.attempts:
            self._started_at(attempt.token_at or attempt.start)
        attempts = len(cmd.attempts)
        if attempts:
            self.commands_run += 1
            self.attempts += attempts
            self.retries += attempts - 1
        if cmd.status == CommandStatus.REFUSED:
            self.refused += 1
        self.token_wait += float(cmd.token_wait or 0.0)
        if cmd.duration is not None:
            self._seq += 1
            text = one_line(printable(cmd.text or ""), 120)
            duration = float(cmd.duration)
            item = (duration, self._seq, f"{duration:7.2f}s  {where}:{cmd.line}  {text}")
            if len(self._slowest) < SLOWEST:
                heapq.heappush(self._slowest, item)
            elif item[0] > self._slowest[0][0]:
                heapq.heapreplace(self._slowest, item)
        for finding in cmd.findings:
            if finding.severity == "warning":
                if len(self.warnings) < MAX_WARNINGS:
                    message = one_line(printable(finding.message or ""), MESSAGE_CHARS)
                    self.warnings.append(f"{where}:{cmd.line} {finding.code} {message}")
                else:
                    self.more_warnings += 1

    def _started_at(self, when) -> None:
        if when is None:
            return
        when = float(when)
        if not self.starts:
            self.first_grant = self.last_grant = when
        self.first_grant, self.last_grant = min(self.first_grant, when), max(self.last_grant, when)
        self.starts += 1

    def _append(self, entry: dict) -> None:
        if self._jsonl is None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self._jsonl = open(self.run_dir / SCRIPTS_FILE, "a", encoding="utf-8")  # noqa: SIM115 (kept open)
        # The newline goes first, so a line torn by an interrupt never swallows the next one.
        self._jsonl.write("\n" + json.dumps(entry, separators=(",", ":"), default=str))
        self._jsonl.flush()

    def close(self) -> None:
        with self._lock:
            if self._jsonl is not None:
                self._jsonl.close()
                self._jsonl = None

    def entries(self):
        """Every finished script's entry, in the order they finished (streamed from the JSON-lines file)."""
        self.close()
        for line in _lines(self.run_dir / SCRIPTS_FILE):
            yield json.loads(line)

    def live_stats(self, worker_stats: dict) -> None:
        with self._lock:
            for worker, stats in (worker_stats or {}).items():
                if isinstance(stats, dict):
                    self._live[str(worker)] = dict(stats)

    # -- showing ------------------------------------------------------------------------------

    def _live_sum(self, key: str) -> float:
        return sum(float(s.get(key) or 0) for s in self._live.values())

    def now_totals(self) -> tuple[int, int, float]:
        """Commands run, attempts and token wait: the newer of live counters and finished records."""
        return (
            max(self.commands_run, int(self._live_sum("commands"))),
            max(self.attempts, int(self._live_sum("attempts"))),
            max(self.token_wait, self._live_sum("token_wait")),
        )

    @property
    def burst(self) -> int:
        """Commands the bucket lets start at once (1 without a bucket)."""
        if not summary.limited(self):
            return 1
        return int(getattr(self.settings, "burst", 1) or 1)

    def achieved_rate(self) -> float:
        """Starts per second beyond the burst, from the first start to the last: ``n`` starts under a
        bucket of ``rate`` and ``burst`` take at least ``(n - burst) / rate`` seconds, so a run that
        kept its bound never reads above it (0 when there are too few starts to tell)."""
        span = self.last_grant - self.first_grant
        extra = self.starts - self.burst
        return extra / span if extra > 0 and span > 0 else 0.0

    def slowest(self) -> list[str]:
        """The slowest commands' lines, slowest first."""
        return [item[2] for item in sorted(self._slowest, reverse=True)]

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def status_line(self, now: float, width: int | None = None) -> str:
        with self._lock:
            return statusline.status_line(self, now, width)

    def summary_lines(
        self, ended: float | None = None, stop_reason: str | None = None, list_failed: bool = True
    ) -> list[str]:
        ended = time.time() if ended is None else ended
        with self._lock:
            return summary.summary_lines(self, ended, stop_reason, list_failed)

    # -- the report ---------------------------------------------------------------------------

    def run_section(
        self,
        ended: float,
        interrupted: bool,
        stop_reason: str | None,
        usacloud_version: str | None,
        preflight: Preflight | None = None,
    ) -> RunSection:
        s = self.settings
        rate = float(getattr(s, "rate", 0.0) or 0.0)
        return RunSection(
            start=self.started,
            end=ended,
            options=self.options,
            plugin_version=__version__,
            usacloud_version=usacloud_version,
            preflight=preflight,
            workers=self.workers,
            rate=None if rate == float("inf") else rate,
            burst=int(getattr(s, "burst", 1) or 1),
            backend=self.backend,
            dry_run=bool(getattr(s, "dry_run", False)),
            interrupted=bool(interrupted),
            stop_reason=stop_reason,
            scripts_total=self.total or 0,
            scripts_finished=self.done,
            outcomes=dict(self.counts),
            partly_run=len(self.partly),
            commands=self.commands,
            commands_run=self.commands_run,
            commands_by_class=dict(self.by_class),
            attempts=self.attempts,
            retries=self.retries,
            refused=self.refused,
            token_wait=self.token_wait,
            achieved_rate=self.achieved_rate(),
        )

    def write_report(
        self,
        path: Path,
        ended: float,
        interrupted: bool,
        stop_reason: str | None,
        usacloud_version: str | None,
        preflight: Preflight | None = None,
    ) -> None:
        """One JSON document (:class:`.document.Report`), the scripts streamed from the JSON-lines
        file; it replaces ``path`` atomically."""
        self.close()
        with self._lock:
            run = self.run_section(ended, interrupted, stop_reason, usacloud_version, preflight)
            report = Report(run=run, cleanup=self.cleanup)
        document.write(path, report, _lines(self.run_dir / SCRIPTS_FILE))


def _lines(path: Path):
    """The JSON-lines file one line at a time; a torn last line (an interrupt mid-write) is dropped."""
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                json.loads(line)
            except ValueError:
                continue
            yield line


def _failed(where: str, record: ScriptRecord | None, longrepr: str | None) -> Failed:
    message = (record.message if record else "") or _first_line(longrepr or "")
    cls = (record.cls if record else None) or ResultClass.ERROR
    return Failed(where, record.line if record else None, str(cls), one_line(printable(message), MESSAGE_CHARS))


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
