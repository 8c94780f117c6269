"""A script as the reader gives it: its usacloud commands, the lines it skipped, its markers."""

from __future__ import annotations

from dataclasses import dataclass

from .control import STRAIGHT_LINE_ADVICE, ControlFlow
from .markers import MarkerSpec
from .source import ScriptError


@dataclass(frozen=True)
class Command:
    #: the line of the simple command's first token (``VAR=`` prefixes and redirections count,
    #: ``if``/``!`` do not)
    line: int
    end_line: int
    text: str  # the whole logical line(s), comments included
    words: tuple[str, ...]  # quotes removed; expansions stay verbatim (``"$ID"`` is ``$ID``)
    #: the first piece that needs the shell, as written (``$ID``, ``${ZONE}``, a whole ``$(...)``, a
    #: glob, ``{a,b}``, a leading ``~``), in a prefix, the argv or a redirection's file; None if none
    expansion: str | None
    nested: bool  # inside a command substitution
    #: ``VAR=value`` prefixes (and ``env VAR=value`` wrapper arguments) as written, values unquoted
    assignments: tuple[tuple[str, str], ...] = ()
    #: set when the command does not run in straight-line order (commands mode refuses the script)
    control: ControlFlow | None = None
    #: its redirections as written: (operator, target word with quotes removed), e.g. (">", "out.json");
    #: here-documents and here-strings are left out (they open no file)
    redirections: tuple[tuple[str, str], ...] = ()
    #: bash tests its exit status where it stands: an ``if``/``while``/``until`` condition, after ``!``,
    #: left of ``&&``; never in a pipeline before ``|``, nor in a list with ``||`` after it (``|| true``)
    tested: bool = False


@dataclass(frozen=True)
class SkippedLine:
    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class ParsedScript:
    commands: tuple[Command, ...]
    skipped: tuple[SkippedLine, ...]
    markers: tuple[MarkerSpec, ...]
    #: skipped lines whose exit status can decide the script's result under bash (:mod:`.checks`)
    checks: tuple[SkippedLine, ...] = ()

    def straight_line_error(self) -> ScriptError | None:
        """Commands mode runs only straight-line scripts: the first usacloud command bash might not
        run (or run in another order), as an error at the line of its construct; None if there is none."""
        for command in self.commands:
            flow = command.control
            if flow is not None:
                return ScriptError(
                    flow.line,
                    f"line {flow.line}: the usacloud command on line {command.line} runs {flow.describe()}; "
                    "commands mode runs only straight-line scripts (bash, not the order of the lines, "
                    f"decides whether it runs): {STRAIGHT_LINE_ADVICE}",
                )
        return None
