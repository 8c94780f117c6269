"""The controller's account of the run: counts for the live status line and the summary, and the
JSON record of results.

Memory stays flat however many scripts run: per script only counters are kept (plus one entry per
failed or partly run script); each finished script's record goes to a JSON-lines file in the run
directory (with a report to write, or in a dry-run for its listing) and is streamed from there.
"""

from __future__ import annotations

import heapq
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from .. import __version__
from ..state.atomicfile import atomic_write
from ..state.records import DONE, CommandStatus, ScriptRecord, ScriptStatus
from ..usacloud.mask import mask_url
from . import statusline, summary
from .reprs import printable, script_path
from .summary import clock  # noqa: F401 (re-exported)

SCHEMA_NAME = "pytest-usacloud-sandbox/report"
SCHEMA_VERSION = 3
SCRIPTS_FILE = "report-scripts.jsonl"


class Outcome(StrEnum):
    """A script's result as pytest reports it (cancelled: skipped because the run was stopped)."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    XFAILED = "xfailed"
    XPASSED = "xpassed"


OUTCOMES = tuple(Outcome)
SLOWEST = 5
MAX_WARNINGS = 50  # warning lines kept for the summary; the rest are only counted
MESSAGE_CHARS = 200
_STATUS_OF = {Outcome.XFAILED: ScriptStatus.FAILED, Outcome.XPASSED: ScriptStatus.PASSED}


@dataclass(frozen=True)
class Failed:
    """One failed script, for the summary and GitHub's annotations."""

    where: str  # the script's path as in its node id
    line: int | None
    cls: str
    message: str


@dataclass(frozen=True)
class Partly:
    """A script that passed with some of its commands skipped (they need the shell)."""

    where: str
    ran: int
    commands: int
    skipped: int


class RunLog:
    def __init__(self, settings, run_dir: Path, started: float, masked_options: dict, backend: str, workers: int):
        self.settings = settings
        self.run_dir = Path(run_dir)
        self.started = started
        self.options = masked_options  # already masked by the caller; used verbatim
        self.backend = mask_url(str(backend or ""))
        self.workers = workers
        self.total: int | None = None  # None while collecting
        self.counts = dict.fromkeys(OUTCOMES, 0)
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
        self.cleanup: dict | None = None  # the report's cleanup section (cleanup.results.Summary)
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

    def script_finished(self, nodeid: str, outcome: str, record: dict | None, report_longrepr_text: str | None) -> None:
        with self._lock:
            self.running.pop(nodeid, None)
            self.counts[outcome] = self.counts.get(outcome, 0) + 1
            where = self.where(nodeid)
            commands = (record or {}).get("commands", ())
            for cmd in commands:
                self._command(where, cmd)
            if outcome == Outcome.FAILED:
                self.failed.append(_failed(where, record, report_longrepr_text))
            elif outcome == Outcome.CANCELLED:
                reason = (record or {}).get("message") or _first_line(report_longrepr_text or "") or "cancelled"
                reason = _one_line(printable(reason), MESSAGE_CHARS)
                self.cancel_reasons[reason] = self.cancel_reasons.get(reason, 0) + 1
            elif outcome == Outcome.PASSED and commands:
                skipped = sum(1 for c in commands if c.get("status") == CommandStatus.SKIPPED)
                if skipped:
                    ran = sum(1 for c in commands if c.get("status") in DONE)
                    self.partly.append(Partly(where, ran, len(commands), skipped))
            if self.keep_records:
                self._append(script_entry(nodeid, where, outcome, record, report_longrepr_text))

    def _command(self, where: str, cmd: dict) -> None:
        self.commands += 1
        key = cmd.get("cls") or cmd.get("status") or "unknown"
        self.by_class[key] = self.by_class.get(key, 0) + 1
        for attempt in cmd.get("attempts") or ():
            self._started_at(attempt.get("token_at") or attempt.get("start"))
        attempts = len(cmd.get("attempts") or ())
        if attempts:
            self.commands_run += 1
            self.attempts += attempts
            self.retries += attempts - 1
        if cmd.get("status") == CommandStatus.REFUSED:
            self.refused += 1
        self.token_wait += float(cmd.get("token_wait") or 0.0)
        duration = cmd.get("duration")
        if duration is not None:
            self._seq += 1
            text = _one_line(printable(cmd.get("text") or ""), 120)
            item = (float(duration), self._seq, f"{float(duration):7.2f}s  {where}:{cmd.get('line')}  {text}")
            if len(self._slowest) < SLOWEST:
                heapq.heappush(self._slowest, item)
            elif item[0] > self._slowest[0][0]:
                heapq.heapreplace(self._slowest, item)
        for finding in cmd.get("findings") or ():
            if finding.get("severity") == "warning":
                if len(self.warnings) < MAX_WARNINGS:
                    message = _one_line(printable(finding.get("message") or ""), MESSAGE_CHARS)
                    self.warnings.append(f"{where}:{cmd.get('line')} {finding.get('code')} {message}")
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
        preflight: dict | None = None,
    ) -> dict:
        s = self.settings
        rate = float(getattr(s, "rate", 0.0) or 0.0)
        return {
            "start": self.started,
            "end": ended,
            "start_utc": _utc(self.started),
            "end_utc": _utc(ended),
            "duration": max(0.0, ended - self.started),
            "options": self.options,
            "plugin_version": __version__,
            "usacloud_version": usacloud_version,
            "preflight": _printable(preflight),
            "workers": self.workers,
            "rate": None if rate == float("inf") else rate,
            "burst": int(getattr(s, "burst", 1) or 1),
            "backend": self.backend,
            "dry_run": bool(getattr(s, "dry_run", False)),
            "interrupted": bool(interrupted),
            "stop_reason": printable(stop_reason) if stop_reason else stop_reason,
            "scripts_total": self.total or 0,
            "scripts_finished": self.done,
            "outcomes": {str(k): v for k, v in self.counts.items()},
            "partly_run": len(self.partly),
            "commands": self.commands,
            "commands_run": self.commands_run,
            "commands_by_class": dict(self.by_class),
            "attempts": self.attempts,
            "retries": self.retries,
            "refused": self.refused,
            "token_wait": self.token_wait,
            "achieved_rate": self.achieved_rate(),
        }

    def write_report(
        self,
        path: Path,
        ended: float,
        interrupted: bool,
        stop_reason: str | None,
        usacloud_version: str | None,
        preflight: dict | None = None,
    ) -> None:
        """One JSON document, streamed from the JSON-lines file; replaced atomically.

        The file gets the permissions pytest's JUnit file would get: an existing file keeps its mode,
        a new one is readable as the umask allows (not the private mode of a temporary file).
        """
        self.close()
        with self._lock:
            head = {
                "schema": SCHEMA_NAME,
                "schema_version": SCHEMA_VERSION,
                "run": self.run_section(ended, interrupted, stop_reason, usacloud_version, preflight),
            }
            if self.cleanup is not None:
                head["cleanup"] = _printable(self.cleanup)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = _mode_for(path)
        with atomic_write(path, fsync=True) as out:
            os.fchmod(out.fileno(), mode)
            prefix = json.dumps(head, indent=1, default=str)
            out.write(prefix[: prefix.rindex("}")].rstrip() + ',\n "scripts": [')
            first = True
            for line in _lines(self.run_dir / SCRIPTS_FILE):
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


def script_entry(nodeid: str, where: str, outcome: str, record: dict | None, longrepr: str | None = None) -> dict:
    """One script of the report's `scripts` (schema: report/schema.py): its record made printable, with
    pytest's outcome, its duration and token wait; a script without a record (an error before it
    ran) gets an empty one, with the message of pytest's report."""
    if record is None:
        record = ScriptRecord(path=where, nodeid=nodeid).to_dict()
        record["status"] = str(_STATUS_OF.get(outcome, outcome))
        record["message"] = _one_line(longrepr or "", 1000)
    entry = _printable(dict(record))
    entry["outcome"] = str(outcome)
    start, end = entry.get("start"), entry.get("end")
    entry["duration"] = (end - start) if start is not None and end is not None else None
    entry["token_wait"] = sum(float(c.get("token_wait") or 0.0) for c in entry.get("commands", ()))
    return entry


def _printable(value):
    """Every string in a record made safe (no terminal control sequences reach the report)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def _failed(where: str, record: dict | None, longrepr: str | None) -> Failed:
    record = record or {}
    message = record.get("message") or _first_line(longrepr or "")
    return Failed(where, record.get("line"), record.get("cls") or "error", _one_line(printable(message), MESSAGE_CHARS))


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _one_line(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
