"""The run's texts: the live status line, the summary section and the dry-run's listing.

Functions of a RunLog's counters (the caller holds its lock); plain text, masked at the source.
"""

from __future__ import annotations

from pathlib import PurePath

from ..state.records import ScriptRecord
from .reprs import plan_line

LINES_WIDTH = 220  # the status line's width when it is not drawn on a terminal (CI logs)


def clock(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def rate_text(log, now: float, attempts: int) -> str:
    if getattr(log.settings, "dry_run", False):
        return "dry-run"
    rate = float(getattr(log.settings, "rate", 0.0) or 0.0)
    configured = "unlimited" if rate == float("inf") else f"{rate:.2f}/s"
    return f"{log.achieved_rate(now, attempts):.2f}/s of {configured}"


def wait_text(wait: float, attempts: int) -> str:
    """Token wait as the mean per command run (the sum over many workers says little on its own)."""
    if not attempts:
        return "token wait -"
    return f"token wait {wait / attempts:.2f}s/cmd"


def status_line(log, now: float, width: int | None = None) -> str:
    width = width or LINES_WIDTH
    done, total = log.done, log.total
    cmds, attempts, wait = log.now_totals()
    c = log.counts
    if total is None:
        head = "usacloud: collecting"
        eta = ""
    else:
        pct = round(100 * done / total) if total else 0
        if done < total:
            pct = min(pct, 99)
        head = f"usacloud: {done}/{total} scripts ({pct}%)"
        if getattr(log, "phase", None):  # after the scripts (the teardown)
            head = f"usacloud: {log.phase} | {done}/{total} scripts"
        since = log.first_start if log.first_start is not None else log.started
        if done and total:
            eta = " | ETA " + clock(max(0.0, now - since) * max(0, total - done) / done)
        else:
            eta = " | ETA --:--"
    parts = [
        head,
        f"{c['passed']} passed {c['failed']} failed {c['skipped']} skipped {c['cancelled']} cancelled",
        f"{cmds} cmds",
        rate_text(log, now, attempts),
    ]
    if _limited(log):
        parts.append(wait_text(wait, attempts))
    line = " | ".join(parts) + f" | {clock(now - log.started)} elapsed{eta}"
    return line + running_text(log.running, now, width - len(line))


def running_text(running: dict[str, float], now: float, room: int) -> str:
    """`` | running 3: c.usacloud 01:12, a.usacloud 00:03 +1``: longest-running first, as many as fit."""
    if not running:
        return ""
    label = f" | running {len(running)}"
    ordered = sorted(running.items(), key=lambda kv: (kv[1], kv[0]))
    names = []
    for n, (nodeid, since) in enumerate(ordered):
        name = f"{PurePath(nodeid.split('::', 1)[0]).name} {clock(now - since)}"
        more = len(ordered) - n - 1
        candidate = label + ": " + ", ".join([*names, name]) + (f" +{more}" if more else "")
        if len(candidate) > room:
            break
        names.append(name)
    if not names:
        return label if len(label) <= room else ""
    rest = len(ordered) - len(names)
    return label + ": " + ", ".join(names) + (f" +{rest}" if rest else "")


def summary_lines(log, ended: float, stop_reason: str | None, list_failed: bool) -> list[str]:
    outcomes = ", ".join(f"{n} {o}" for o, n in log.counts.items() if n or o in ("passed", "failed"))
    total = log.total or 0
    unfinished = total - log.done
    lines = [f"scripts: {outcomes} (of {total}" + (f"; {unfinished} not finished)" if unfinished > 0 else ")")]
    if log.partly:
        lines.append(f"partly run ({len(log.partly)}): passed, but some commands need the shell and were skipped")
        verb = "would run" if getattr(log.settings, "dry_run", False) else "ran"
        for p in sorted(log.partly, key=lambda p: p.where):
            lines.append(f"  {p.where}: {p.ran} of {p.commands} commands {verb}, {p.skipped} skipped")
    classes = ", ".join(f"{k} {v}" for k, v in sorted(log.by_class.items(), key=lambda kv: (-kv[1], kv[0])))
    lines.append(
        f"commands: {log.commands} in finished scripts, {log.commands_run} run"
        + (f"; by class: {classes}" if classes else "")
    )
    lines.append(f"retries: {log.retries} | refused: {log.refused} | attempts: {log.attempts}")
    wait = f" | {total_wait_text(log.token_wait, log.attempts)}" if _limited(log) else ""
    lines.append(f"rate: {rate_text(log, ended, log.attempts)}{wait} | {clock(ended - log.started)} elapsed")
    if stop_reason:
        lines.append(f"stopped: {stop_reason}")
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


def _limited(log) -> bool:
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
    """Per script, one line per command after the policy: what would run, or why not (issue 14)."""
    scripts = []
    for entry in entries:
        record = ScriptRecord.from_dict(_record_fields(entry))
        lines = [f"{where(entry['nodeid'])}: {entry.get('outcome')}"]
        if entry.get("outcome") in ("skipped", "cancelled") and not record.commands:
            lines[0] += f" ({entry.get('message')})"
        lines.extend(f"  line {c.line:<4} {plan_line(c)}" for c in record.commands)
        scripts.append((entry["nodeid"], lines))
    out = []
    for _, lines in sorted(scripts):
        out.extend(lines)
    return out


_SCRIPT_FIELDS = frozenset(ScriptRecord.__dataclass_fields__) | {"commands_run", "commands_failed"}


def _record_fields(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k in _SCRIPT_FIELDS}
