"""The run's texts: the header line, the summary section and the dry-run's listing.

Functions of a RunLog's counters (the caller holds its lock); plain text, masked at the source.
"""

from __future__ import annotations

from ..record.fields import from_plain
from ..record.script import ScriptRecord
from ..record.vocabulary import ScriptOutcome
from ..usacloud.commands import SANDBOX_ZONE
from .reprs import plan_line


def header_line(settings, binary: str | None, version: str | None, backend: str) -> str:
    """pytest's header line: usacloud's path and version, the mode, the zone, the rate and its bucket,
    fake mode and dry-run (``binary`` None: not looked for, in a dry-run)."""
    if binary is None:
        usacloud = "not run (dry-run)"
    else:
        usacloud = f"{binary} {version or '(version unknown)'}"
    rate = float(getattr(settings, "rate", 0.0) or 0.0)
    if getattr(settings, "dry_run", False):
        limit = "rate not used (dry-run)"
    elif rate == float("inf"):
        limit = "rate unlimited"
    else:
        limit = f"rate {rate:g}/s, burst {getattr(settings, 'burst', 1)}, bucket {backend}"
    return " | ".join(
        [
            f"usacloud: {usacloud}",
            f"{getattr(settings, 'mode', 'commands')} mode",
            f"zone {SANDBOX_ZONE}",
            limit,
            f"fake mode {'on' if getattr(settings, 'fake', False) else 'off'}",
            f"dry-run {'on' if getattr(settings, 'dry_run', False) else 'off'}",
        ]
    )


def clock(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def configured_rate(log) -> str:
    rate = float(getattr(log.settings, "rate", 0.0) or 0.0)
    return "unlimited" if rate == float("inf") else f"{rate:.2f}/s"


def rate_text(log) -> str:
    """The rate the run achieved, never read above the bound a run kept: the starts beyond the
    burst over the span from the first start to the last (``n`` starts need at least
    ``(n - burst) / rate`` seconds), with the counts it comes from."""
    if getattr(log.settings, "dry_run", False):
        return "dry-run"
    n, burst = log.starts, log.burst
    span = (log.last_grant - log.first_grant) if n else 0.0
    if n <= burst or span <= 0:
        return f"-- of {configured_rate(log)} ({n} starts, burst {burst})"
    return (
        f"{log.achieved_rate():.2f}/s of {configured_rate(log)} "
        f"({n} starts in {span:.2f}s from the first to the last, burst {burst})"
    )


def partly_why(partly) -> str:
    """Why the partly run scripts are not plain passes: skipped commands, skipped deciding lines, or both."""
    why = []
    if any(p.skipped for p in partly):
        why.append("some commands need the shell and were skipped")
    if any(p.checks for p in partly):
        why.append("skipped lines can decide the result")
    return ", or ".join(why)


def summary_lines(log, ended: float, stop_reason: str | None, list_failed: bool) -> list[str]:
    counts = dict(log.counts)
    counts[ScriptOutcome.PASSED] -= len(log.partly)  # as pytest's last line counts them
    shown = [(o, n) for o, n in counts.items() if n or o in (ScriptOutcome.PASSED, ScriptOutcome.FAILED)]
    if log.partly:
        shown.insert(1, (ScriptOutcome.PARTLY_RUN, len(log.partly)))
    outcomes = ", ".join(f"{n} {o}" for o, n in shown)
    total = log.total or 0
    unfinished = total - log.done
    lines = [f"scripts: {outcomes} (of {total}" + (f"; {unfinished} not finished)" if unfinished > 0 else ")")]
    if log.partly:
        lines.append(f"partly run ({len(log.partly)}): passed, but {partly_why(log.partly)}")
        verb = "would run" if getattr(log.settings, "dry_run", False) else "ran"
        for p in sorted(log.partly, key=lambda p: p.where):
            checks = f", {p.checks} deciding line{'s' if p.checks != 1 else ''} skipped" if p.checks else ""
            lines.append(f"  {p.where}: {p.ran} of {p.commands} commands {verb}, {p.skipped} skipped{checks}")
    classes = ", ".join(f"{k} {v}" for k, v in sorted(log.by_class.items(), key=lambda kv: (-kv[1], kv[0])))
    lines.append(
        f"commands: {log.commands} in finished scripts, {log.commands_run} run"
        + (f"; by class: {classes}" if classes else "")
    )
    lines.append(f"retries: {log.retries} | refused: {log.refused} | attempts: {log.attempts}")
    wait = f" | {total_wait_text(log.token_wait, log.attempts)}" if limited(log) else ""
    lines.append(f"rate: {rate_text(log)}{wait} | {clock(ended - log.started)} elapsed")
    if stop_reason:
        lines.append(f"stopped: {stop_reason}")
    for reason, n in sorted(log.cancel_reasons.items()):  # as pytest's short summary folds skips
        lines.append(f"CANCELLED [{n}] {reason}")
    slowest = log.slowest()
    if slowest:
        lines.append(f"slowest {len(slowest)} commands:")
        lines.extend("  " + line for line in slowest)
    if log.failed and list_failed:
        lines.append(f"failed scripts ({len(log.failed)}):")
        lines.extend("  " + failed_line(f) for f in sorted(log.failed, key=lambda f: (f.where, f.line or 0)))
    if log.warnings:
        lines.append(f"warnings from the offline check ({len(log.warnings) + log.more_warnings}):")
        lines.extend("  " + line for line in sorted(log.warnings))
        if log.more_warnings:
            lines.append(f"  ... and {log.more_warnings} more (see --usacloud-report)")
    return lines


def limited(log) -> bool:
    """Whether commands took tokens (not in a dry-run, nor with --usacloud-rate=unlimited)."""
    settings = log.settings
    return not getattr(settings, "dry_run", False) and float(getattr(settings, "rate", 0.0) or 0.0) != float("inf")


def total_wait_text(wait: float, attempts: int) -> str:
    mean = f", {wait / attempts:.2f}s mean per command" if attempts else ""
    return f"token wait {wait:.1f}s summed over every command{mean}"


def failed_line(f) -> str:
    where = f"{f.where}:{f.line}" if f.line else f.where
    return f"{where} {f.cls}: {f.message}"


def dry_run_lines(entries, where) -> list[str]:
    """Per script, one line per command after the policy: what would run, or why not."""
    scripts = []
    for entry in entries:
        record = from_plain(ScriptRecord, entry)
        lines = [f"{where(record.nodeid)}: {record.outcome}"]
        if record.outcome in (ScriptOutcome.SKIPPED, ScriptOutcome.CANCELLED) and not record.commands:
            lines[0] += f" ({record.message})"
        lines.extend(f"  line {c.line:<4} {plan_line(c)}" for c in record.commands)
        scripts.append((record.nodeid, lines))
    out = []
    for _, lines in sorted(scripts):
        out.extend(lines)
    return out
