"""The live status line: the run's progress in one line that fits its width.

Its fields keep their order on the line. When the line is too wide, the fields are taken by
importance (:data:`PRIORITY`) while they fit, and none is ever cut in the middle of a word: the
count of scripts done, the longest-running script, the counts of passed and failed, the ETA, and so
on; the running scripts' other names fill what room is left.
"""

from __future__ import annotations

from pathlib import PurePath

from ..record.vocabulary import ScriptOutcome
from .summary import clock, configured_rate, limited

LINES_WIDTH = 220  # the line's width when it is not drawn on a terminal (CI logs)
SEP = " | "
#: the fields after the head and the longest-running script, most important first ("short counts":
#: the counts that are not 0, where the whole counts do not fit)
PRIORITY = ("short counts", "eta", "elapsed", "rate", "cmds", "wait", "counts")
#: the outcomes the whole counts show, even when 0
_COUNTED = (ScriptOutcome.PASSED, ScriptOutcome.FAILED, ScriptOutcome.SKIPPED, ScriptOutcome.CANCELLED)


def live_rate(log, now: float, attempts: int) -> str:
    """The rate so far: the starts beyond the burst since the first script started (a run that keeps
    its bound never reads above it)."""
    if getattr(log.settings, "dry_run", False):
        return "dry-run"
    since = log.first_start if log.first_start is not None else log.started
    span = now - since
    rate = max(0, attempts - log.burst) / span if span > 0 else 0.0
    return f"{rate:.2f}/s of {configured_rate(log)}"


def wait_text(wait: float, attempts: int) -> str:
    """Token wait as the mean per command run (the sum over many workers says little on its own)."""
    if not attempts:
        return "token wait -"
    return f"token wait {wait / attempts:.2f}s/cmd"


def fields(log, now: float) -> list[tuple[str, str]]:
    """(name, text) in the order they appear on the line."""
    done, total = log.done, log.total
    cmds, attempts, wait = log.now_totals()
    c = log.counts
    short = " ".join(f"{n} {o}" for o, n in c.items() if n or o in (ScriptOutcome.PASSED, ScriptOutcome.FAILED))
    eta = None
    if total is None:
        head = "usacloud: collecting"
    else:
        pct = round(100 * done / total) if total else 0
        if done < total:
            pct = min(pct, 99)
        head = f"usacloud: {done}/{total} scripts ({pct}%)"
        if getattr(log, "phase", None):  # after the scripts (the teardown)
            head = f"usacloud: {log.phase} | {done}/{total} scripts"
        since = log.first_start if log.first_start is not None else log.started
        eta = "ETA " + (clock(max(0.0, now - since) * max(0, total - done) / done) if done and total else "--:--")
    out = [
        ("head", head),
        ("counts", " ".join(f"{c[o]} {o}" for o in _COUNTED)),
        ("short counts", short),
        ("cmds", f"{cmds} cmds"),
        ("rate", live_rate(log, now, attempts)),
    ]
    if limited(log):
        out.append(("wait", wait_text(wait, attempts)))
    out.append(("elapsed", f"{clock(now - log.started)} elapsed"))
    if eta is not None:
        out.append(("eta", eta))
    return out


def status_line(log, now: float, width: int | None = None) -> str:
    """The line, at most ``width`` characters (unless its first word alone is wider)."""
    width = width or LINES_WIDTH
    parts = fields(log, now)
    texts = dict(parts)
    order = [name for name, _ in parts]
    reserve = next((len(r) for r in _running_least(log.running, now) if len(texts["head"]) + len(r) <= width), 0)
    shown = {"head"}
    for name in PRIORITY:
        if name not in texts:
            continue
        trial = (shown - {"short counts"}) | {name} if name == "counts" else shown | {name}
        if len(_join(texts, order, trial)) + reserve <= width:
            shown = trial
    line = fit_words(_join(texts, order, shown), width)
    return line + running_text(log.running, now, width - len(line))


def _running_least(running: dict[str, float], now: float) -> list[str]:
    """What the running part needs at least: the longest-running script's name, else their number."""
    if not running:
        return []
    label = f"{SEP}running {len(running)}"
    more = len(running) - 1
    return [f"{label}: {_ordered(running, now)[0]}" + (f" +{more}" if more else ""), label]


def _ordered(running: dict[str, float], now: float) -> list[str]:
    """``name elapsed`` of each running script, longest-running first."""
    ordered = sorted(running.items(), key=lambda kv: (kv[1], kv[0]))
    return [f"{PurePath(nodeid.split('::', 1)[0]).name} {clock(now - since)}" for nodeid, since in ordered]


def _join(texts: dict[str, str], order: list[str], shown: set[str]) -> str:
    return SEP.join(texts[name] for name in order if name in shown)


def fit_words(text: str, width: int) -> str:
    """``text`` cut after its last whole word that fits (at least its first word)."""
    if len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width + 1)
    head = text[:cut] if cut > 0 else text.split(" ", 1)[0]
    return head.rstrip(" |")


def running_text(running: dict[str, float], now: float, room: int) -> str:
    """`` | running 3: c.usacloud 01:12, a.usacloud 00:03 +1``: longest-running first, as many as fit."""
    if not running:
        return ""
    label = f"{SEP}running {len(running)}"
    ordered = _ordered(running, now)
    names: list[str] = []
    for n, name in enumerate(ordered):
        more = len(ordered) - n - 1
        candidate = label + ": " + ", ".join([*names, name]) + (f" +{more}" if more else "")
        if len(candidate) > room:
            break
        names.append(name)
    if not names:
        return label if len(label) <= room else ""
    rest = len(ordered) - len(names)
    return label + ": " + ", ".join(names) + (f" +{rest}" if rest else "")
