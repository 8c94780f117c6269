"""``--parameters`` read the way usacloud 1.22.8 reads it: the one reader for the check and the policy.

usacloud (``util.BytesFromPathOrContent``) expands a leading ``~`` with go-homedir, reads the value
as a file relative to the directory it runs in (the script's), and when that read fails takes the
(expanded) value itself as the JSON. Go's ``encoding/json`` then fills the command's parameter struct:
an object's keys match field names exactly or case-insensitively with Unicode simple folding (so
``bootaftercreate`` and ``Forceſhutdown`` set their fields), the last key for a field wins, ``null``
changes nothing, and anything but an object or ``null`` is an error usacloud prints before exiting 0.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

MAX_PARAMETERS_BYTES = 1024 * 1024


class JSONObject(list):
    """A JSON object as its (key, value) pairs in document order (duplicate keys kept, as Go sees them)."""


class FloatLiteral(str):
    """A JSON number with a fraction or an exponent, kept as written (Go's int fields refuse it)."""


def _no_constant(name: str):
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def decode_json(text: str):
    """JSON as Go's decoder reads it: objects as :class:`JSONObject`, NaN/Infinity refused. Raises ValueError."""
    return json.loads(text, object_pairs_hook=JSONObject, parse_float=FloatLiteral, parse_constant=_no_constant)


def go_fold(key: str) -> str:
    """``key`` folded as encoding/json folds object keys, for comparison with ASCII field names.

    ASCII letters fold to upper case; of the other runes only U+017F (long s) and U+212A (Kelvin
    sign) fold onto ASCII letters (S and K). Any other rune keeps a form no ASCII name can equal."""
    return "".join(
        c.upper() if c.isascii() else "S" if c == "\u017f" else "K" if c == "\u212a" else "\x00" + c for c in key
    )


def member(obj: object, name: str) -> tuple[bool, object]:
    """(found, value) of the Go struct field ``name`` in a decoded JSON object: the last key that
    matches it exactly or by folding (a later key overwrites an earlier one in Go)."""
    if not isinstance(obj, JSONObject):
        return False, None
    folded = go_fold(name)
    found, value = False, None
    for key, item in obj:
        if key == name or go_fold(key) == folded:
            found, value = True, item
    return found, value


def _zero(value: object) -> bool:
    return value in (None, "", 0, False) or (isinstance(value, list) and not value)


@dataclass(frozen=True)
class Parameters:
    """What ``--parameters VALUE`` gives usacloud, as far as this process can tell."""

    data: JSONObject | None  # the decoded JSON object (None: not read, or not an object)
    source: str  # "inline" | "file" | "unread" | "broken"
    note: str = ""  # why it was not read, or why usacloud cannot use it

    def lookup(self, field: str) -> tuple[bool, object]:
        """(found, value) for a field path such as ``"HealthCheck.DelayLoop"``."""
        node: object = self.data
        for part in field.split("."):
            found, node = member(node, part)
            if not found:
                return False, None
        return True, node

    def has(self, field: str) -> bool:
        """Whether the JSON sets ``field`` to a non-zero value."""
        found, value = self.lookup(field)
        return found and not _zero(value)

    def value(self, field: str) -> object:
        return self.lookup(field)[1]


def expand_home(value: str, home: str | None) -> str | None:
    """go-homedir's Expand: ``~`` and ``~/...`` take the home directory; ``~user`` is an error (None)."""
    if not value.startswith("~"):
        return value
    if len(value) > 1 and value[1] not in "/\\":
        return None
    home = home or os.environ.get("HOME") or str(Path.home())
    return home + value[1:]


def read_parameters(value: str, base_dir: str | Path | None, home: str | None = None) -> Parameters:
    """Read ``--parameters VALUE`` as usacloud would in ``base_dir`` (the script's directory).

    ``home`` is usacloud's ``$HOME`` (for ``~/``; default: this process's). A value that is not a
    file there is the JSON itself. Without ``base_dir`` a relative path cannot be looked at, and a
    file that is not a regular file or is over 1 MiB is not read: such parameters are "unread"."""
    expanded = expand_home(value, home)
    if expanded is None:
        return Parameters(None, "broken", "not a path usacloud can expand (`~user` forms are not supported)")
    stripped = expanded.strip()
    inline = stripped.startswith(("{", "[")) or stripped in ("", "null")
    path = Path(expanded)
    if not path.is_absolute():
        if base_dir is None:
            if inline:
                return _decode(expanded, "inline")
            return Parameters(None, "unread", f"`{value}` is relative and the script's directory is not known")
        path = Path(base_dir) / path
    try:
        info = path.stat()
    except (OSError, ValueError):  # no such file (or a name no file can have): the value is the JSON
        return _decode(expanded, "inline", "" if inline else f"no file `{value}` where usacloud runs, so the text is ")
    if stat.S_ISDIR(info.st_mode):  # os.ReadFile fails on a directory: usacloud takes the text
        return _decode(expanded, "inline", f"`{value}` is a directory, so the text is ")
    if not stat.S_ISREG(info.st_mode):
        return Parameters(None, "unread", f"`{value}` is not a regular file")
    if info.st_size > MAX_PARAMETERS_BYTES:
        return Parameters(None, "unread", f"`{value}` is larger than {MAX_PARAMETERS_BYTES} bytes")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PARAMETERS_BYTES + 1)
    except OSError:
        return _decode(expanded, "inline")  # unreadable: usacloud takes the text as well
    return _decode(raw.decode("utf-8", errors="replace"), "file")


def _decode(text: str, source: str, why: str = "") -> Parameters:
    try:
        data = decode_json(text)
    except (ValueError, RecursionError) as exc:
        return Parameters(None, "broken", f"{why}not JSON: {exc}")
    if data is None:
        data = JSONObject()
    if not isinstance(data, JSONObject):
        what = "array" if isinstance(data, list) else "string" if isinstance(data, str) else "number or boolean"
        return Parameters(None, "broken", f"a JSON {what}, not an object")
    return Parameters(data, source)
