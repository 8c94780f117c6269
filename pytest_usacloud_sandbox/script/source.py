"""A script's text: read safely (size limit, UTF-8, no NUL), normalised, and shown by lines."""

from __future__ import annotations

import os
import re

from .tokens import ShellSyntaxError

MAX_SCRIPT_BYTES_DEFAULT = 1024 * 1024


class ScriptError(ShellSyntaxError):
    """A script that cannot be used.  ``line`` is 1-based (0: the whole file); ``str()`` is the message."""


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a byte offset; the column counts characters."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def read_script_text(path, max_bytes: int = MAX_SCRIPT_BYTES_DEFAULT) -> str:
    """Read a script as UTF-8 text, as bash will read it (a BOM and CRs are kept), refusing big or
    binary files."""
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            size = os.fstat(f.fileno()).st_size
            what = f"{size} bytes" if size > max_bytes else f"more than {max_bytes} bytes"
            raise ScriptError(0, f"script is {what} (over the limit of {max_bytes}; raise usacloud_max_script_bytes)")
    nul = data.find(b"\0")
    try:
        text = data.decode("utf-8")
        bad = -1
    except UnicodeDecodeError as e:
        bad = e.start
    if nul >= 0 and (bad < 0 or nul < bad):
        line, col = _position(data, nul)
        raise ScriptError(line, f"NUL byte at line {line}, column {col}: not a text script")
    if bad >= 0:
        line, col = _position(data, bad)
        raise ScriptError(line, f"not UTF-8: invalid byte 0x{data[bad]:02x} at line {line}, column {col}")
    return text


#: A line that ends in a carriage return (CRLF, Windows line endings).
_CR_LINE_END = re.compile(r"\r+(?=\n|\Z)")


def check_line_ends(text: str) -> None:
    """Refuse Windows line endings: bash reads the CR as part of the line's last word (`list\\r`,
    `exit 0\\r`), and a here-document whose terminator line ends in one never ends there, so such a
    script does not do what it says. (A byte-order mark needs nothing: bash reads it as part of
    the first word, and so does the parser.)"""
    found = _CR_LINE_END.search(text)
    if found is None:
        return
    line = text.count("\n", 0, found.start()) + 1
    raise ScriptError(
        line,
        f"line {line} ends with a carriage return (Windows CRLF line endings): bash reads it as part of the "
        "line, so the script would not do what it says (a `list` would be `list\\r`, a here-document would not "
        "end there); convert the file to LF line endings (dos2unix)",
    )


class SourceLines:
    """The script's physical lines, to show the logical line(s) a command or skipped line is on."""

    def __init__(self, text: str, cont_lines: set):
        self.lines = text.split("\n")
        self.cont = cont_lines  # lines ending with a backslash-newline continuation
        count = len(self.lines)
        # first and last physical line of the logical line holding each line (1-based)
        self.first = list(range(count + 2))
        for ln in range(2, count + 1):
            if ln - 1 in cont_lines:
                self.first[ln] = self.first[ln - 1]
        self.last = list(range(count + 2))
        for ln in range(count - 1, 0, -1):
            if ln in cont_lines:
                self.last[ln] = self.last[ln + 1]
        self.cache: dict[tuple[int, int], str] = {}

    def text(self, first: int, last: int) -> str:
        """Lines ``first``..``last`` widened to whole logical lines, continuations joined, stripped."""
        key = (self.first[first], self.last[last])
        if key not in self.cache:  # (many commands share one long logical line)
            parts = []
            for ln in range(key[0], key[1] + 1):
                line = self.lines[ln - 1]
                parts.append(line if ln == key[1] else line[:-1] if ln in self.cont else line + "\n")
            self.cache[key] = "".join(parts).strip()
        return self.cache[key]
