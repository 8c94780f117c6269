"""Flag values the way usacloud reads them: Go's number and boolean syntax, allowed-value sets, and
"did you mean" suggestions. Used by the offline check."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .commands import Flag

#: strconv.ParseBool
GO_BOOLS = frozenset({"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"})
GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_INT = re.compile(
    r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)\Z"
)
INT64 = 2**63


def go_int(text: str) -> bool:
    """Whether pflag's int flags take ``text``: strconv.ParseInt(text, 0, 64), Go's literal syntax."""
    if not _GO_INT.match(text):
        return False
    body = text.replace("_", "").lstrip("+-")
    base = {"x": 16, "b": 2, "o": 8}.get(body[1:2].lower(), 8 if len(body) > 1 and body[0] == "0" else 10)
    digits = body[2:] if base != 10 and body[1:2].isalpha() else body
    value = int(digits, base)
    return value < INT64 or (text.startswith("-") and value == INT64)


def go_bool(text: str) -> bool:
    """Whether ``--flag=text`` is a boolean pflag accepts (strconv.ParseBool)."""
    return text in GO_BOOLS


def disallowed(flag: Flag, value: str) -> list[str]:
    """The parts of ``value`` that are not among ``flag.options`` (usacloud's `oneof`); [] if fine.

    An empty value is not checked (usacloud's validators are `omitempty`). A list flag checks each
    comma-separated item; an int flag compares numbers ("0100" is 100)."""
    if not flag.options or value == "":
        return []
    items = [v.strip() for v in value.split(",")] if flag.value == "strings" else [value]
    if flag.value == "int":
        allowed = {int(o) for o in flag.options if go_int(o)}
        return [v for v in items if not go_int(v) or _int(v) not in allowed]
    return [v for v in items if v not in flag.options]


def _int(text: str) -> int:
    body = text.replace("_", "")
    try:
        return int(body, 0)
    except ValueError:  # Go reads a leading 0 as octal
        return int(body, 8)


# -- "did you mean" -----------------------------------------------------------------------------


def levenshtein(a: str, b: str) -> int:
    """Edit distance where swapping two neighbours counts as one edit ("lsit" -> "list")."""
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        before, previous = previous, current
    return previous[-1]


def suggest(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Closest candidates by edit distance ("did you mean"), best first."""
    threshold = max(1, len(word) // 3)
    scored = sorted((levenshtein(word, c), c) for c in set(candidates) if c != word)
    return [c for d, c in scored if d <= threshold][:limit]


def suggest_flag(name: str, tiers: Sequence[Iterable[str]], limit: int = 2) -> list[str]:
    """Flag names close to ``name`` ("--nmes" -> "--names"), from the first tier that has any.

    Close means a small edit distance for the name's length (one edit up to 7 letters, two up to
    11, three beyond) or being its start ("--desc" -> "--description"). Tiers go from the
    subcommand's own flags to the shared ones, so `--name` on a list suggests `--names`, never a
    global flag such as `--fake`."""
    core = name.lstrip("-")
    if not name.startswith("--") or not core:
        return []
    threshold = max(1, min(3, len(core) // 4))
    for tier in tiers:
        scored = []
        for candidate in set(tier):
            other = candidate.lstrip("-")
            if other == core:
                continue
            distance = levenshtein(core, other)
            if distance <= threshold:
                scored.append((distance, candidate))
            elif len(core) >= 3 and other.startswith(core):
                scored.append((threshold + 1, candidate))
        if scored:
            return [c for _, c in sorted(scored)][:limit]
    return []
