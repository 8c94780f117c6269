"""How the offline check words what it finds (its :class:`~..record.command.Finding`), and a list of choices."""

from __future__ import annotations

from collections.abc import Sequence

ERROR, WARNING = "error", "warning"


def first(options: Sequence[str]) -> str | None:
    return options[0] if options else None


def did_you_mean(options: Sequence[str]) -> str:
    return f"; did you mean {', '.join(options)}?" if options else ""


def listed(values: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")
