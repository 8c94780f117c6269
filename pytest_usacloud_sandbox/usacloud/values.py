"""Go's true words, and "did you mean" suggestions for the offline check."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .pflag import GO_BOOLS

#: The words strconv.ParseBool reads as true.
GO_TRUE = frozenset(word for word, value in GO_BOOLS.items() if value)


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
