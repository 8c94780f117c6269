"""A script as the plugin runs or checks it: read, parsed, and, when the plugin itself runs its
commands in order (commands mode), held to the straight-line rule and to redirections bash could open.

The pytest item (a run, or the dry-run) and ``usacloud-lint`` load every script through
:func:`load_script`, so a script they cannot use fails both with the same line and message.
"""

from __future__ import annotations

from pathlib import Path

from .parse import ParsedScript, parse_script, read_script_text
from .redirects import redirection_error
from .source import MAX_SCRIPT_BYTES_DEFAULT, ScriptError
from .syntax import SyntaxCheckUnavailable, bash_syntax_problem

#: the header marker of a script that runs under bash (shell mode) whatever the run's mode
SHELL_MARKER = "usacloud_shell"


def marked_shell(script: ParsedScript) -> bool:
    """The script's header marks it ``usacloud_shell``."""
    return any(marker.name == SHELL_MARKER for marker in script.markers)


def load_script(
    path, max_bytes: int = MAX_SCRIPT_BYTES_DEFAULT, shell: bool | None = None, bash: str | None = None
) -> ParsedScript:
    """Read and parse the script at ``path``; raises :class:`~.source.ScriptError` (line and message).

    A script bash cannot parse fails at bash's line (``bash -n``, with ``bash`` or the one on PATH),
    so nothing runs of a script bash would refuse; without bash, or when it cannot decide in time,
    the plugin's own reader decides alone. ``shell``: whether bash runs the script (shell mode:
    bash, not the order of the lines, decides what runs); None: as its header says
    (:data:`SHELL_MARKER`). Otherwise the plugin runs its commands in order, so a usacloud command
    bash might not run is an error before anything runs: one
    off the straight line, or one whose redirection bash could not open (looked at from the script's
    directory, where commands mode runs usacloud).
    """
    text = read_script_text(path, max_bytes)
    try:
        problem = bash_syntax_problem(path, bash=bash)
    except SyntaxCheckUnavailable:
        problem = None
    if problem is not None:
        raise ScriptError(problem.line, problem.describe())
    script = parse_script(text)
    if shell is None:
        shell = marked_shell(script)
    if not shell:
        error = script.straight_line_error() or redirection_error(script, Path(path).parent)
        if error is not None:
            raise error
    return script
