"""Output options that make usacloud read a local file into what it prints.

usacloud 1.22.8 reads ``--format`` (alias ``--fmt``) and ``--query`` with
``util.StringFromPathOrContent``: a value that names a file it can read (relative to the directory
it runs in, a leading ``~`` expanded as go-homedir does) is replaced by that file's content, which
becomes the Go template or the query. And its templates have a function ``file`` (``os.ReadFile``,
``~`` expanded) that prints any file. So ``--format /proc/self/environ``, ``--format
'{{file "/proc/self/environ"}}'`` or a query kept in a file print usacloud's own environment, the API
key included: in shell mode to the script's own stdout, in commands mode into the report, where no
masking can catch an encoding of it (``{{printf "%x" (file ...)}}``). The policy refuses both.

No other template function of usacloud 1.22.8 reads a file or the environment (``pkg/vdef``'s
function map and Go's builtins), and its jq driver runs gojq without an environment (``$ENV`` and
``env`` are null there).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from . import commands

#: The flags usacloud reads with StringFromPathOrContent before it prints anything.
OUTPUT_FLAGS = ("--format", "--query")
#: The template function that reads a file.
FILE_FUNCTION = "file"

_IDENTIFIER = re.compile(r"[^\W\d]\w*")  # Go identifiers: letters (any script), digits, _


def problem(inv: commands.Invocation, cwd: Path | None) -> str | None:
    """Why the command would print a local file (a value naming one, or a template calling
    ``file``), or None. ``cwd``: where usacloud runs (None: this process's directory)."""
    for use in inv.flags:
        if use.flag is None or use.flag.name not in OUTPUT_FLAGS or not use.value:
            continue
        path = named_file(use.value, cwd)
        if path is not None:
            return (
                f"`{use.name} {use.value}` names a file ({path}): usacloud would read it as the "
                f"{'template' if use.flag.name == '--format' else 'query'} and could print any file it can read, "
                "its own environment (the API key) included; write the template or query inline"
            )
        if use.flag.name == "--format" and calls_file(use.value):
            return (
                f"the `{use.name}` template calls `{FILE_FUNCTION}`, which prints a local file into usacloud's "
                "output (usacloud's own /proc/self/environ holds the API key)"
            )
    return None


def named_file(value: str, cwd: Path | None) -> Path | None:
    """The file usacloud would read for ``value`` (a path that exists and is not a directory), or None."""
    expanded = _home_expanded(value)
    if expanded is None or "\0" in expanded:
        return None
    path = Path(expanded)
    if not path.is_absolute():
        path = (cwd or Path.cwd()) / path
    try:
        return path if path.exists() and not path.is_dir() else None
    except (OSError, ValueError):
        return None


def _home_expanded(value: str) -> str | None:
    """go-homedir's Expand: a leading ``~`` alone or before ``/`` is the home directory; ``~user``
    is an error (usacloud then uses the value as it is)."""
    if not value.startswith("~"):
        return value
    if len(value) > 1 and value[1] not in "/\\":
        return value
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return home + value[1:]


def calls_file(template: str) -> bool:
    """Whether a Go template calls the ``file`` function (in any action, outside string literals;
    ``.file`` is a field and ``$file`` a variable)."""
    return any(name == FILE_FUNCTION for name in _functions(template))


def _functions(template: str) -> Iterator[str]:
    """The identifiers in function position of every action of ``template`` (``{{ ... }}``): not a
    field (``.Name``), not a variable (``$x``), not inside a string, raw string, character or comment."""
    pos, n = 0, len(template)
    while True:
        start = template.find("{{", pos)
        if start < 0:
            return
        pos = start + 2
        while pos < n:
            if template.startswith("}}", pos):
                pos += 2
                break
            c = template[pos]
            if c in "\"'":
                pos = _after_quoted(template, pos, c)
            elif c == "`":
                end = template.find("`", pos + 1)
                pos = n if end < 0 else end + 1
            elif template.startswith("/*", pos):
                end = template.find("*/", pos + 2)
                pos = n if end < 0 else end + 2
            elif c.isalpha() or c == "_":
                match = _IDENTIFIER.match(template, pos)
                before = template[pos - 1] if pos else ""
                if before not in ".$" and not (before.isalnum() or before == "_"):
                    yield match.group()
                pos = match.end()
            else:
                pos += 1


def _after_quoted(text: str, pos: int, quote: str) -> int:
    pos += 1
    while pos < len(text):
        if text[pos] == "\\":
            pos += 2
        elif text[pos] == quote:
            return pos + 1
        else:
            pos += 1
    return pos
