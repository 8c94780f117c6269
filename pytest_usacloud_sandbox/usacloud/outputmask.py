"""Secrets in structured text, found by their key (secretnames): JSON, YAML and usacloud's tables.

JSON: ``"UserPassword": "x"`` (a list of strings too), also inside a double-quoted shell word. YAML
as usacloud 1.22.8 prints it (ghodss/yaml over yaml.v2): unquoted Go keys, in lists (``- Password:``),
values plain, quoted, wrapped over more-indented lines or literal blocks (``|``, ``|-``, ``|2-``); a
non-string (``true``, ``12``, ``null``) is kept, as in JSON. Tables: a column whose head names a
secret (``ftp-open``'s ``Password``).
"""

from __future__ import annotations

import re

from .secretnames import is_secret_key

MASK = "***"

_STRING = r'"(?:[^"\\]|\\.)*"'
_JSON_PAIR = re.compile(rf'("([^"\\\n]{{1,200}})"\s*:\s*)({_STRING}|\[\s*(?:{_STRING}\s*(?:,\s*{_STRING}\s*)*)?\])')
_JSON_STRING = re.compile(_STRING)
#: inside a double-quoted shell word: `"[{\"Password\":\"x\"}]"`
_ESCAPED_PAIR = re.compile(r'(\\"([^"\\\n]{1,200})\\"\s*:\s*)\\"(?:[^"\\]|\\[^"])*\\"')
_YAML_KEY = re.compile(r"(?P<lead>[ ]*(?:-[ ]+)*)(?P<key>[A-Za-z_][\w.-]*)[ ]*:(?:[ ]+(?P<value>.*?))?[ ]*(?P<end>\r?)")
_YAML_ITEM = re.compile(r"(?P<lead>[ ]*-[ ]+)(?P<value>.*?)[ ]*(?P<end>\r?)")
#: what YAML reads as no string (JSON's true, false, null, numbers, empty collections): kept
_YAML_NOT_STRING = re.compile(r"true|false|null|~|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\[\]|\{\}")
_BORDER = re.compile(r"\+(?:-+\+)+\r?")
_ROW = re.compile(r"\|.*\|\r?")


def mask_output(text: str) -> str:
    """``text`` with the values under secret keys and in secret columns replaced by ``***``."""
    text = _JSON_PAIR.sub(_json_pair, text)
    text = _ESCAPED_PAIR.sub(lambda m: f'{m.group(1)}\\"{MASK}\\"' if is_secret_key(m.group(2)) else m.group(0), text)
    if ":" in text:
        text = mask_yaml(text)
    if "+-" in text:
        text = mask_tables(text)
    return text


def _json_pair(m: re.Match) -> str:
    if not is_secret_key(m.group(2)):
        return m.group(0)
    return m.group(1) + _JSON_STRING.sub(f'"{MASK}"', m.group(3))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _next_indents(lines: list[str]) -> list[int]:
    """For each line, the indentation of the first non-blank line from there on (-1: none)."""
    indents, following = [0] * (len(lines) + 1), -1
    indents[-1] = -1
    for at in range(len(lines) - 1, -1, -1):
        if lines[at].strip():
            following = _indent(lines[at])
        indents[at] = following
    return indents


def mask_yaml(text: str) -> str:
    """Values under secret YAML keys, and the string items of a list under one, replaced by ``***``
    (a value's continuation lines and a literal block's lines, blank ones inside too, go with it)."""
    lines = text.split("\n")
    ahead = _next_indents(lines)  # a line belongs to a value at column c when ahead[line] > c
    out: list[str] = []
    hide: int | None = None  # lines more indented than this column continue a masked value
    items: int | None = None  # the column of a secret key with no value: its `- x` items are secrets
    for at, line in enumerate(lines):
        if hide is not None:
            if ahead[at] > hide:
                continue
            hide = None
        indent = _indent(line)
        ended = indent < items or (indent == items and not line.startswith("-", indent)) if items is not None else False
        if ended and line.strip():
            items = None
        key = _YAML_KEY.fullmatch(line)
        if key is not None:
            value, column = key.group("value") or "", len(key.group("lead"))
            if not is_secret_key(key.group("key")):
                out.append(line)
            elif not value:
                out.append(line)
                items = column
            elif _YAML_NOT_STRING.fullmatch(value) and not ahead[at + 1] > column:
                out.append(line)
            else:
                out.append(line[: key.start("value")] + MASK + key.group("end"))
                hide = column
            continue
        item = _YAML_ITEM.fullmatch(line) if items is not None else None
        if item is not None and item.group("value"):
            out.append(item.group("lead") + MASK + item.group("end"))
            hide = indent
            continue
        out.append(line)
    return "\n".join(out)


def yaml_secrets(text: str) -> list[str]:
    """The one-line values under secret keys of a YAML document (a profile's ``config.yaml``)."""
    found = []
    for line in text.splitlines():
        key = _YAML_KEY.fullmatch(line)
        if key is not None and key.group("value") and is_secret_key(key.group("key")):
            found.append(key.group("value").strip("'\""))
    return found


def mask_tables(text: str) -> str:
    """The cells of secret columns in usacloud's tables (``+---+`` borders, the head between the first
    two) replaced by ``***``; a row whose cells cannot be told apart (a ``|`` in a cell) is masked whole."""
    lines = text.split("\n")
    at = 0
    while at + 2 < len(lines):
        if not (_BORDER.fullmatch(lines[at]) and _ROW.fullmatch(lines[at + 1]) and _BORDER.fullmatch(lines[at + 2])):
            at += 1
            continue
        heads = _cells(lines[at + 1])
        secret = [k for k, head in enumerate(heads) if is_secret_key(head.strip())]
        at += 3
        while secret and at < len(lines) and _ROW.fullmatch(lines[at]):
            lines[at] = _masked_row(lines[at], secret, len(heads))
            at += 1
    return "\n".join(lines)


def _cells(row: str) -> list[str]:
    return row.rstrip("\r")[1:-1].split("|")


def _masked_row(row: str, secret: list[int], columns: int) -> str:
    cells = _cells(row)
    end = "\r" if row.endswith("\r") else ""
    if len(cells) != columns:
        return f"| {MASK} |{end}"
    for k in secret:
        cells[k] = f" {MASK}".ljust(max(len(cells[k]), len(MASK) + 2))
    return "|" + "|".join(cells) + "|" + end
