"""Whether bash could open a usacloud command's redirections: checked before commands mode runs anything.

bash runs no command whose redirection it cannot open (``> artifacts/out.json`` without
``artifacts/``, ``< missing.json``, ``>&3``); commands mode keeps usacloud's output itself and would
run it. So each redirection is looked at from the script's directory first, and the script is refused
at the first one bash could not open (it belongs in shell mode, which runs the ``mkdir`` or ``exec``).
"""

from __future__ import annotations

import os
from pathlib import Path

from .control import STRAIGHT_LINE_ADVICE
from .parse import Command, ParsedScript
from .source import ScriptError

_INPUT = frozenset({"<"})
_OUTPUT = frozenset({">", ">>", ">|", "&>", "&>>", "<>"})
_DUPLICATE = frozenset({">&", "<&"})  # a descriptor number or `-`; any other word is a file (`>&file`)
_STANDARD = frozenset({"0", "1", "2", "-"})


def redirection_error(script: ParsedScript, base_dir: Path) -> ScriptError | None:
    """The first usacloud command (run, not skipped) with a redirection bash could not open, as an
    error at its line; None if every one can be opened. ``base_dir``: the script's directory."""
    for command in script.commands:
        if command.expansion is not None:
            continue  # skipped in commands mode: it never runs
        for op, target in command.redirections:
            why = _cannot_open(op, target, base_dir)
            if why is not None:
                return _error(command, op, target, why)
    return None


def _cannot_open(op: str, target: str, base_dir: Path) -> str | None:
    if op in _DUPLICATE:
        if target.isascii() and target.isdigit():
            return None if target in _STANDARD else f"descriptor {target} is open only if the shell opened it"
        if target == "-":
            return None
        op = ">"  # `>&file` writes the file, as `&>file` does
    path = base_dir / target
    try:
        if op in _INPUT:
            return None if path.exists() else f"{target} does not exist"
        if op in _OUTPUT:
            if path.is_dir():
                return f"{target} is a directory"
            parent = path.parent
            return None if parent.is_dir() else f"the directory {_shown(target)} does not exist"
    except (OSError, ValueError):
        return f"{target} cannot be looked at"
    return None


def _shown(target: str) -> str:
    parent = os.path.dirname(target)
    return f"{parent}/" if parent else "."


def _error(command: Command, op: str, target: str, why: str) -> ScriptError:
    line = command.line
    return ScriptError(
        line,
        f"line {line}: the redirection `{op} {target}` of the usacloud command on line {line} cannot be opened "
        f"({why}, next to the script): bash would not run the command (and, under `set -e`, nothing after it), "
        "while commands mode would, and it skips the `mkdir`, `cd` or `exec` that might make it work: "
        f"{STRAIGHT_LINE_ADVICE}",
    )
