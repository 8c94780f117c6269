"""A simple command's words before its name: ``VAR=value`` prefixes and the wrappers bash looks
through (``command``, ``exec``, ``nohup``, ``env NAME=value...``), and the literal text of a word."""

from __future__ import annotations

import re

from .tokens import Word

ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\+?=")
_ENV_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = frozenset({"command", "exec", "nohup"})
#: Wrappers that run a builtin (not a function) by its name: `command exit 0`, `builtin exit`.
BUILTIN_WRAPPERS = frozenset({"command", "builtin"})


def literal(word: Word) -> str | None:
    """A word's text when it needs no expansion (quoted or not: `\\exit` and `"exit"` run exit)."""
    return None if word.expansion is not None or word.arith else word.value


def assignments_of(words: list, env: bool = False) -> tuple[tuple[str, str], ...]:
    """``NAME=value`` words as (name as written, value unquoted); ``env``: among wrapper words."""
    found = []
    for w in words:
        match = (_ENV_ASSIGNMENT if env else ASSIGNMENT).match(w.value if env else w.raw)
        if match is None:
            continue
        name = match.group()[:-1]  # "A", "A[1]", "B+"
        found.append((name, w.value[len(name) + 1 :]))
    return tuple(found)


def strip_wrappers(words: list, k: int) -> int:
    """How many ``command``/``exec``/``nohup``/``env ...`` wrapper words start at ``words[k]``."""
    begin = k
    while k < len(words) - 1 and words[k].expansion is None:
        v = words[k].value
        if v in _WRAPPERS:
            j = k + 1
        elif v == "env":
            j = k + 1
            while j < len(words) and _ENV_ASSIGNMENT.match(words[j].value):
                j += 1
        else:
            break
        if j < len(words) and words[j].value == "--":
            j += 1
        if j >= len(words) or words[j].value.startswith("-"):
            break
        k = j
    return k - begin
