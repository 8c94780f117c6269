"""What the offline check reports about one command line, and how it words a list of choices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning"
    code: str
    word: str  # the word at fault as written ("" if none)
    message: str
    fix: str | None = None


def first(options: Sequence[str]) -> str | None:
    return options[0] if options else None


def did_you_mean(options: Sequence[str]) -> str:
    return f"; did you mean {', '.join(options)}?" if options else ""


def listed(values: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")
