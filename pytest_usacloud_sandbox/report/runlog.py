"""The controller's account of the run: counts for the live status line and the summary, and the
JSON record of results.

Memory stays flat however many scripts run: per script only counters are kept (plus one line per
failed script); each finished script's record goes to a JSON-lines file in the run directory and
the report is streamed from it.
"""

from __future__ import annotations

import heapq
import json
import re
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from .. import __version__
from ..state.atomicfile import atomic_write
from ..state.records import ScriptRecord
from ..usacloud.mask import mask_url

SCHEMA_NAME = "pytest-usacloud-sandbox/report"
SCHEMA_VERSION = 1
SCRIPTS_FILE = "report-scripts.jsonl"
OUTCOMES = ("passed", "failed", "skipped", "cancelled", "xfailed", "xpassed")
SLOWEST = 5
MAX_WARNINGS = 50  # warning lines kept for the summary; the rest are only counted
MESSAGE_CHARS = 200
_STATUS_OF = {"xfailed": "failed", "xpassed": "passed"}
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@/\s]*@")


class RunLog:
    def __init__(self, settings, run_dir: Path, started: float, masked_options: dict, backend: str, workers: int):
        self.settings = settings
        self.run_dir = Path(run_dir)
        self.started = started
        self.options = masked_options  # already masked by the caller; used verbatim
        self.backend = mask_url(str(backend or ""))
        self.workers = workers
        self.total = 0
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.by_class: dict[str, int] = {}
        # commands in finished scripts; of those, run at least once; attempts (tokens); retries; refused
        self.commands = self.commands_run = self.attempts = self.retries = self.refused = 0
        self.token_wait = 0.0
        self.failed_lines: list[str] = []
        self.warnings: list[str] = []
        self.more_warnings = 0
        self.running: set[str] = set()
        self.first_start: float | None = None
        self._slowest: list[tuple[float, int, str]] = []  # min-heap of (duration, seq, line)
        self._seq = 0
        self._live: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._jsonl = None

    # -- collecting ---------------------------------------------------------------------------

    def set_total(self, n: int) -> None:
        self.total = int(n)

    def script_started(self, nodeid: str) -> None:
        with self._lock:
            self.running.add(nodeid)
            if self.first_start is None:
                self.first_start = time.time()

    def script_finished(self, nodeid: str, outcome: str, record: dict | None, report_longrepr_text: str | None) -> None:
        with self._lock:
            self.running.discard(nodeid)
            self.counts[outcome] = self.counts.get(outcome, 0) + 1
            where = nodeid.split("::", 1)[0]
            for cmd in (record or {}).get("commands", ()):
                self._command(where, cmd)
            if outcome == "failed":
                self.failed_lines.append(_failed_line(where, record, report_longrepr_text))
            if self.settings is not None and getattr(self.settings, "report", None):
                self._append(_entry(nodeid, outcome, record, report_longrepr_text))

    def _command(self, where: str, cmd: dict) -> None:
        self.commands += 1
        key = cmd.get("cls") or cmd.get("status") or "unknown"
        self.by_class[key] = self.by_class.get(key, 0) + 1
        attempts = len(cmd.get("attempts") or ())
        if attempts:
            self.commands_run += 1
            self.attempts += attempts
            self.retries += attempts - 1
        if cmd.get("status") == "refused":
            self.refused += 1
        self.token_wait += float(cmd.get("token_wait") or 0.0)
        duration = cmd.get("duration")
        if duration is not None:
            self._seq += 1
            text = _one_line(cmd.get("text") or "", 120)
            item = (float(duration), self._seq, f"{float(duration):7.2f}s  {where}:{cmd.get('line')}  {text}")
            if len(self._slowest) < SLOWEST:
                heapq.heappush(self._slowest, item)
            elif item[0] > self._slowest[0][0]:
                heapq.heapreplace(self._slowest, item)
        for finding in cmd.get("findings") or ():
            if finding.get("severity") == "warning":
                if len(self.warnings) < MAX_WARNINGS:
                    message = _one_line(finding.get("message") or "", MESSAGE_CHARS)
                    self.warnings.append(f"{where}:{cmd.get('line')} {finding.get('code')} {message}")
                else:
                    self.more_warnings += 1

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

    def live_stats(self, worker_stats: dict) -> None:
        with self._lock:
            for worker, stats in (worker_stats or {}).items():
                if isinstance(stats, dict):
                    self._live[str(worker)] = dict(stats)

    # -- showing ------------------------------------------------------------------------------

    def _live_sum(self, key: str) -> float:
        return sum(float(s.get(key) or 0) for s in self._live.values())

    def _now_totals(self) -> tuple[int, int, float]:
        """Commands run, attempts and token wait: the newer of live counters and finished records."""
        return (
            max(self.commands_run, int(self._live_sum("commands"))),
            max(self.attempts, int(self._live_sum("attempts"))),
            max(self.token_wait, self._live_sum("token_wait")),
        )

    def achieved_rate(self, now: float, attempts: int | None = None) -> float:
        """Attempts (each took a token) per second since the first script started."""
        attempts = self.attempts if attempts is None else attempts
        since = self.first_start if self.first_start is not None else self.started
        span = now - since
        return attempts / span if span > 0 else 0.0

    def _rate_text(self, now: float, attempts: int) -> str:
        if getattr(self.settings, "dry_run", False):
            return "dry-run"
        rate = float(getattr(self.settings, "rate", 0.0) or 0.0)
        configured = "unlimited" if rate == float("inf") else f"{rate:.2f}/s"
        return f"{self.achieved_rate(now, attempts):.2f}/s of {configured}"

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def status_line(self, now: float) -> str:
        with self._lock:
            done, total = self.done, self.total
            cmds, attempts, wait = self._now_totals()
            pct = round(100 * done / total) if total else 0
            if done < total:
                pct = min(pct, 99)
            since = self.first_start if self.first_start is not None else self.started
            if done and total:
                eta = "ETA " + clock(max(0.0, now - since) * max(0, total - done) / done)
            else:
                eta = "ETA --:--"
            c = self.counts
            return (
                f"usacloud: {done}/{total} scripts ({pct}%) | {c['passed']} passed {c['failed']} failed "
                f"{c['cancelled']} cancelled | {len(self.running)} running | {cmds} cmds | "
                f"{self._rate_text(now, attempts)} | token wait {wait:.1f}s | "
                f"{clock(now - self.started)} elapsed | {eta}"
            )

    def summary_lines(self, ended: float | None = None, stop_reason: str | None = None) -> list[str]:
        ended = time.time() if ended is None else ended
        with self._lock:
            outcomes = ", ".join(f"{n} {o}" for o, n in self.counts.items() if n or o in ("passed", "failed"))
            unfinished = self.total - self.done
            lines = [
                f"scripts: {outcomes} (of {self.total}" + (f"; {unfinished} not finished)" if unfinished > 0 else ")")
            ]
            classes = ", ".join(f"{k} {v}" for k, v in sorted(self.by_class.items(), key=lambda kv: (-kv[1], kv[0])))
            lines.append(
                f"commands: {self.commands} in finished scripts, {self.commands_run} run"
                + (f"; by class: {classes}" if classes else "")
            )
            lines.append(f"retries: {self.retries} | refused: {self.refused} | attempts: {self.attempts}")
            lines.append(
                f"rate: {self._rate_text(ended, self.attempts)} | token wait {self.token_wait:.1f}s total"
                f" | {clock(ended - self.started)} elapsed"
            )
            if stop_reason:
                lines.append(f"stopped: {stop_reason}")
            if self._slowest:
                lines.append(f"slowest {len(self._slowest)} commands:")
                lines.extend("  " + item[2] for item in sorted(self._slowest, reverse=True))
            if self.failed_lines:
                lines.append(f"failed scripts ({len(self.failed_lines)}):")
                lines.extend("  " + line for line in sorted(self.failed_lines))  # by path: stable across runs
            if self.warnings:
                lines.append(f"warnings from the offline check ({len(self.warnings) + self.more_warnings}):")
                lines.extend("  " + line for line in sorted(self.warnings))
                if self.more_warnings:
                    lines.append(f"  ... and {self.more_warnings} more (see --usacloud-report)")
            return lines

    # -- the report ---------------------------------------------------------------------------

    def run_section(
        self, ended: float, interrupted: bool, stop_reason: str | None, usacloud_version: str | None
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
            "workers": self.workers,
            "rate": None if rate == float("inf") else rate,
            "burst": int(getattr(s, "burst", 1) or 1),
            "backend": self.backend,
            "dry_run": bool(getattr(s, "dry_run", False)),
            "interrupted": bool(interrupted),
            "stop_reason": stop_reason,
            "scripts_total": self.total,
            "scripts_finished": self.done,
            "outcomes": dict(self.counts),
            "commands": self.commands,
            "commands_run": self.commands_run,
            "commands_by_class": dict(self.by_class),
            "attempts": self.attempts,
            "retries": self.retries,
            "refused": self.refused,
            "token_wait": self.token_wait,
            "achieved_rate": self.achieved_rate(ended) if self.attempts else 0.0,
        }

    def write_report(
        self, path: Path, ended: float, interrupted: bool, stop_reason: str | None, usacloud_version: str | None
    ) -> None:
        """One JSON document, streamed from the JSON-lines file; replaced atomically."""
        self.close()
        with self._lock:
            head = {
                "schema": SCHEMA_NAME,
                "schema_version": SCHEMA_VERSION,
                "run": self.run_section(ended, interrupted, stop_reason, usacloud_version),
            }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, fsync=True) as out:
            prefix = json.dumps(head, indent=1, default=str)
            out.write(prefix[: prefix.rindex("}")].rstrip() + ',\n "scripts": [')
            first = True
            for line in _lines(self.run_dir / SCRIPTS_FILE):
                out.write(("\n  " if first else ",\n  ") + line)
                first = False
            out.write("\n ]\n}\n")


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


def _entry(nodeid: str, outcome: str, record: dict | None, longrepr: str | None) -> dict:
    if record is None:
        record = ScriptRecord(path=nodeid.split("::", 1)[0], nodeid=nodeid).to_dict()
        record["status"] = _STATUS_OF.get(outcome, outcome)
        record["message"] = _one_line(longrepr or "", 1000)
    entry = dict(record)
    entry["outcome"] = outcome
    start, end = entry.get("start"), entry.get("end")
    entry["duration"] = (end - start) if start is not None and end is not None else None
    entry["token_wait"] = sum(float(c.get("token_wait") or 0.0) for c in entry.get("commands", ()))
    return entry


def _failed_line(where: str, record: dict | None, longrepr: str | None) -> str:
    record = record or {}
    line = record.get("line")
    cls = record.get("cls") or "error"
    message = record.get("message") or _first_line(longrepr or "")
    return (
        f"{where}:{line} {cls} {_one_line(message, MESSAGE_CHARS)}"
        if line
        else f"{where} {cls} {_one_line(message, MESSAGE_CHARS)}"
    )


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _one_line(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clock(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def ask_usacloud_version(binary: str | None, timeout: float = 5.0, env: dict | None = None) -> str | None:
    """`usacloud version` (offline, no API call), or None if it cannot be asked cheaply."""
    if not binary:
        return None
    try:
        done = subprocess.run(
            [binary, "version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = _first_line(done.stdout)
    return text[:100] if done.returncode == 0 and text else None
