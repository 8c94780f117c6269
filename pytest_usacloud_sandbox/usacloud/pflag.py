"""Flag values as usacloud 1.22.8 parses them: spf13/pflag 1.0.10's types and usacloud's ID flags.

An int is Go's ``ParseInt(s, 0, 64)`` (``0x1f``, ``017``, ``1_000``), a bool ``ParseBool``, a string
slice one CSV record per use (the first use replaces the default, later ones append), a ``types.ID``
a base-10 ParseInt with the error dropped: a word that is no number is the ID 0, never an error. A
value pflag refuses stops usacloud at that flag (:func:`invalid_argument`).
"""

from __future__ import annotations

import re

from .commands import Flag

INT64 = 2**63
_BASE0 = re.compile(
    r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)\Z"
)
_BASE10 = re.compile(r"[+-]?[0-9]+\Z")
GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True}
GO_BOOLS.update(dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False))

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(text: str) -> str:
    """Go's ``%q`` (strconv.Quote) of ``text``."""
    out = ['"']
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF:
            out.append(char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out) + '"'


def parse_int(text: str) -> tuple[int | None, str | None]:
    """(value, None) or (None, strconv's error) for ``strconv.ParseInt(text, 0, 64)``."""
    if not _BASE0.match(text):
        return None, f"strconv.ParseInt: parsing {go_quote(text)}: invalid syntax"
    body = text.replace("_", "")
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    prefix = body[1:2].lower() if body.startswith("0") else ""
    if prefix in ("x", "b", "o"):
        value = int(body[2:], {"x": 16, "b": 2, "o": 8}[prefix])
    else:
        value = int(body, 8 if len(body) > 1 and body[0] == "0" else 10)
    value *= sign
    if not -INT64 <= value < INT64:
        return None, f"strconv.ParseInt: parsing {go_quote(text)}: value out of range"
    return value, None


def parse_bool(text: str) -> tuple[bool | None, str | None]:
    if text in GO_BOOLS:
        return GO_BOOLS[text], None
    return None, f"strconv.ParseBool: parsing {go_quote(text)}: invalid syntax"


def string_id(text: str) -> int:
    """``types.StringID``: base-10 ParseInt with the error ignored (out of range gives the int64 bound)."""
    if not _BASE10.match(text):
        return 0
    return max(-INT64, min(INT64 - 1, int(text)))


# -- encoding/csv, one record (Go 1.25: positions are 1-based byte columns) ----------------------------------
class CSVError(ValueError):
    pass


def _csv_lines(data: bytes) -> list[bytes]:
    """encoding/csv's readLine over ``data``: lines with their \\n, \\r\\n folded to \\n, a \\r before EOF dropped."""
    lines = data.split(b"\n")
    out = [line + b"\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    out = [line[:-2] + b"\n" if line.endswith(b"\r\n") else line for line in out]
    if out and out[-1].endswith(b"\r") and not out[-1].endswith(b"\n"):
        out[-1] = out[-1][:-1]
    return out


def _nl(line: bytes) -> int:
    return 1 if line.endswith(b"\n") else 0


def read_csv_record(text: str) -> list[str]:
    """The first record of ``text`` as Go's ``csv.NewReader(...).Read()`` reads it (comma, no lazy
    quotes). Raises :class:`CSVError` with Go's message."""
    lines = _csv_lines(text.encode("utf-8", "surrogateescape"))
    index = 0
    while index < len(lines) and lines[index] == b"\n":  # blank lines are skipped
        index += 1
    if index == len(lines):
        raise CSVError("EOF")
    start = num_line = pos_line = index + 1
    line, col = lines[index], 1
    fields: list[bytes] = []
    while True:
        if not line.startswith(b'"'):
            cut = line.find(b",")
            field = line[:cut] if cut >= 0 else line[: len(line) - _nl(line)]
            quote = field.find(b'"')
            if quote >= 0:
                raise CSVError(_parse_error(start, num_line, col + quote, 'bare " in non-quoted-field'))
            fields.append(field)
            if cut < 0:
                return [f.decode("utf-8", "surrogateescape") for f in fields]
            line, col = line[cut + 1 :], col + cut + 1
            continue
        line, col = line[1:], col + 1
        value = b""
        while True:
            quote = line.find(b'"')
            if quote >= 0:
                value += line[:quote]
                line, col = line[quote + 1 :], col + quote + 1
                if line.startswith(b'"'):
                    value += b'"'
                    line, col = line[1:], col + 1
                elif line.startswith(b","):
                    fields.append(value)
                    line, col = line[1:], col + 1
                    break
                elif len(line) == _nl(line):
                    fields.append(value)
                    return [f.decode("utf-8", "surrogateescape") for f in fields]
                else:
                    message = 'extraneous or missing " in quoted-field'
                    raise CSVError(_parse_error(start, num_line, col - 1, message))
            elif line:  # the field goes on over the next line
                value += line
                col += len(line)
                index += 1
                num_line += 1
                line = lines[index] if index < len(lines) else b""
                if line:
                    pos_line, col = pos_line + 1, 1
            else:  # the end of the text inside a quoted field
                raise CSVError(_parse_error(start, pos_line, col, 'extraneous or missing " in quoted-field'))


def _parse_error(start: int, line: int, column: int, message: str) -> str:
    if start != line:
        return f"record on line {start}; parse error on line {line}, column {column}: {message}"
    return f"parse error on line {line}, column {column}: {message}"


def read_as_csv(text: str) -> tuple[list[str] | None, str | None]:
    """pflag's readAsCSV: "" is an empty list; otherwise the first CSV record."""
    if text == "":
        return [], None
    try:
        return read_csv_record(text), None
    except CSVError as exc:
        return None, str(exc)


# -- one flag's value from all its uses -------------------------------------------------------------
def is_id_list(flag: Flag) -> bool:
    return (flag.go_type or "").lstrip("*") == "[]types.ID"


def parse_use(flag: Flag, text: str | None) -> tuple[object, str | None]:
    """(value, None) or (None, pflag's complaint) for one use of ``flag`` (``text`` None: a bare switch)."""
    kind = flag.value
    if kind == "bool":
        return (True, None) if text is None else parse_bool(text)
    if text is None:
        return None, None
    if kind == "int":
        return parse_int(text)
    if kind == "strings":
        return read_as_csv(text)
    if kind == "id":
        return ([string_id(t) for t in text.split(",")] if is_id_list(flag) else string_id(text)), None
    return text, None


def combine(flag: Flag, values: list[object]) -> object:
    """The value a flag ends with after all its uses: string slices append after the first use,
    anything else (``[]types.ID`` included) keeps the last."""
    if flag.value == "strings":
        return [item for value in values for item in value]
    return values[-1]


def invalid_argument(flag: Flag, text: str, cause: str) -> str:
    """pflag's error for a value its type refuses (cobra prints it after ``Error: ``)."""
    name = f"{flag.short}, {flag.name}" if flag.short else flag.name
    return f"invalid argument {go_quote(text)} for {go_quote(name)} flag: {cause}"
