"""Flags whose value usacloud reads (or writes) as a local file: the rule ``reads-file`` / ``writes-file``.

usacloud 1.22.8 takes many values as "a path or the content" and prints, stores or uploads what the
file holds; which flags do so is in the command table (``Flag.file``). usacloud's own
``/proc/self/environ`` holds the API key, and a script means to hand over only its own directory's
files: each value is judged where usacloud will open it (:mod:`.localfiles`), ``--parameters`` JSON
included, and a ``--format``/``--query`` that names a file or calls ``file`` is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from . import commands
from .localfiles import Place, judge, resolve
from .params import JSONObject, decode_json, expand_home, go_fold, read_parameters

#: Kinds of file flags whose file usacloud moves over FTP.
FTP_KINDS = frozenset({"upload", "download"})
#: The template function that reads a file.
FILE_FUNCTION = "file"
#: What usacloud does with the file a flag of each kind names.
_DOES = {
    "template": "reads it as the template",
    "query": "reads it as the query",
    "content": "reads it and sends its content to the API",
    "upload": "uploads it",
    "open": "hands it to a local program",
    "download": "writes what it downloads there",
}
_ADVICE = {
    "download": "write it in the script's directory",
    "template": "write the template inline",
    "query": "write the query inline",
}
_KEEP = "keep the file in the script's directory (or give the content inline)"
_MAX_JSON = 1024 * 1024

_IDENTIFIER = re.compile(r"[^\W\d]\w*")  # Go identifiers: letters (any script), digits, _


def problem(inv: commands.Invocation, place: Place) -> tuple[str, str] | None:
    """(rule, why) when the command would read or write a local file it may not, or None; judged
    where usacloud runs (``place``). Rules: ``reads-file``, ``writes-file``."""
    sub = inv.subcommand
    for use in inv.flags:
        flag = use.flag
        if flag is None or flag.file is None or use.value is None:
            continue
        for value in _pieces(flag, use.value):
            found = _judged(use.name, f"`{use.name} {value}`", flag.file, value, place)
            if found is not None:
                return found
        if flag.file == "content" and flag.name != "--parameters":
            found = _in_json(_json_of(use.value, place), sub, place, use.name)
            if found is not None:
                return found
    if sub is None:
        return None
    for use in inv.flag_uses("--parameters"):
        if not use.value:
            continue
        params = read_parameters(use.value, place.cwd, place.home)
        if params.source == "unread":
            return "reads-file", f"`--parameters` cannot be checked for the files it names ({params.note})"
        found = _in_json(params.data, sub, place, "--parameters")
        if found is not None:
            return found
    return None


def ftp_transfer(inv: commands.Invocation, place: Place) -> str | None:
    """The flag (or ``--parameters`` field) that makes the command move a file over FTP (kinds
    ``upload`` and ``download``: usacloud's fake driver fakes the API, not the FTP host it names),
    or None. Parameters that cannot be read count when the subcommand has such a field."""
    sub = inv.subcommand
    if sub is None:
        return None
    moving = [f for f in sub.flags if f.file in FTP_KINDS]
    used = next((u for u in inv.flags if u.flag in moving and u.value), None)
    if used is not None:
        return f"`{used.name}`"
    for use in inv.flag_uses("--parameters") if moving else ():
        params = read_parameters(use.value or "", place.cwd, place.home)
        if params.source == "unread":
            return f"`--parameters` (it cannot be read here: {params.note})"
        field = next((f.field for f in moving if params.has(f.field)), None)
        if field is not None:
            return f"`--parameters` {field}"
    return None


def _pieces(flag: commands.Flag, value: str) -> tuple[str, ...]:
    """The value and, for a list flag (pflag's comma-separated StringSlice), each of its items."""
    if flag.value != "strings" and not (flag.go_type or "").lstrip("*").startswith("[]"):
        return (value,)
    return (value, *(item for item in value.split(",") if item != value))


def _judged(name: str, what: str, kind: str, value: str, place: Place) -> tuple[str, str] | None:
    """Why the value of flag ``name`` (``what``: how to quote it) may not be used, as (rule, why)."""
    rule = "writes-file" if kind == "download" else "reads-file"
    why = judge(value, kind, place)
    if why is not None:
        return rule, f"{what} {why}: usacloud {_DOES[kind]}; {_ADVICE.get(kind, _KEEP)}"
    if kind in ("template", "query"):
        path = named_file(value, place)
        if path is not None:
            return rule, (
                f"{what} names a file ({path}): usacloud would read it as the {kind} and could print any file "
                "it can read, its own environment (the API key) included; write the template or query inline"
            )
    if kind == "template" and calls_file(value):
        return rule, (
            f"the `{name}` template calls `{FILE_FUNCTION}`, which prints a local file into usacloud's "
            "output (usacloud's own /proc/self/environ holds the API key)"
        )
    return None


def _json_of(value: str, place: Place) -> object:
    """The JSON usacloud would read for a "path or content" value: the file's (one the rules let it
    read), or the text's; None when it is not JSON."""
    path = named_file(value, place)
    text = value
    if path is not None:
        try:
            with open(path, "rb") as fh:
                text = fh.read(_MAX_JSON).decode("utf-8", errors="replace")
        except OSError:
            return None
    try:
        return decode_json(text)
    except (ValueError, RecursionError):
        return None


def _in_json(data: object, sub: commands.Subcommand | None, place: Place, name: str) -> tuple[str, str] | None:
    """A file field set inside JSON (``--parameters``, ``--disks``...): any key, at any depth, that
    names one of the subcommand's file fields (Go matches keys case-insensitively)."""
    if data is None or sub is None:
        return None
    kinds = {go_fold(f.field.split(".")[-1]): f.file for f in sub.flags if f.file is not None and f.field}
    kinds.pop(go_fold("Parameters"), None)
    for key, value in _members(data):
        kind = kinds.get(go_fold(key))
        values = value if isinstance(value, list) else [value]
        for item in values:
            if kind is not None and isinstance(item, str):
                found = _judged(name, f"`{name}` sets {key}: `{item}`", kind, item, place)
                if found is not None:
                    return found
    return None


def _members(data: object, depth: int = 0) -> Iterator[tuple[str, object]]:
    if depth > 64:
        return
    if isinstance(data, JSONObject):
        for key, value in data:
            yield key, value
            yield from _members(value, depth + 1)
    elif isinstance(data, list):
        for item in data:
            yield from _members(item, depth + 1)


def named_file(value: str, place: Place) -> Path | None:
    """The file usacloud would read for a "path or content" ``value`` (a path that exists and is not
    a directory, `~/` expanded, resolved where usacloud runs), or None."""
    expanded = expand_home(value, place.home)
    if not expanded or "\0" in expanded:
        return None
    found = resolve(expanded, place.cwd)
    if found.path is None:
        return None
    try:
        path = Path(found.path)
        return path if path.exists() and not path.is_dir() else None
    except (OSError, ValueError):
        return None


def calls_file(template: str) -> bool:
    """Whether a Go template calls the ``file`` function (in any action, outside string literals;
    ``.file`` is a field and ``$file`` a variable). It prints any file, past any masking
    (``{{printf "%x" (file "/proc/self/environ")}}``); no other template function of usacloud 1.22.8
    reads a file or the environment, and its jq driver runs gojq without one (``$ENV`` is null)."""
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
