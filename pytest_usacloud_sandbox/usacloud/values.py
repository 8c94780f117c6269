"""Flag values the way usacloud reads them: Go's number and boolean syntax, allowed-value sets,
``--parameters`` JSON, and "did you mean" suggestions. Used by the offline check."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .commands import Flag

#: strconv.ParseBool
GO_BOOLS = frozenset({"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"})
GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_INT = re.compile(
    r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)\Z"
)
INT64 = 2**63
MAX_PARAMETERS_BYTES = 1024 * 1024


def go_int(text: str) -> bool:
    """Whether pflag's int flags take ``text``: strconv.ParseInt(text, 0, 64), Go's literal syntax."""
    if not _GO_INT.match(text):
        return False
    body = text.replace("_", "").lstrip("+-")
    base = {"x": 16, "b": 2, "o": 8}.get(body[1:2].lower(), 8 if len(body) > 1 and body[0] == "0" else 10)
    digits = body[2:] if base != 10 and body[1:2].isalpha() else body
    value = int(digits, base)
    return value < INT64 or (text.startswith("-") and value == INT64)


def go_bool(text: str) -> bool:
    """Whether ``--flag=text`` is a boolean pflag accepts (strconv.ParseBool)."""
    return text in GO_BOOLS


def disallowed(flag: Flag, value: str) -> list[str]:
    """The parts of ``value`` that are not among ``flag.options`` (usacloud's `oneof`); [] if fine.

    An empty value is not checked (usacloud's validators are `omitempty`). A list flag checks each
    comma-separated item; an int flag compares numbers ("0100" is 100)."""
    if not flag.options or value == "":
        return []
    items = [v.strip() for v in value.split(",")] if flag.value == "strings" else [value]
    if flag.value == "int":
        allowed = {int(o) for o in flag.options if go_int(o)}
        return [v for v in items if not go_int(v) or _int(v) not in allowed]
    return [v for v in items if v not in flag.options]


def _int(text: str) -> int:
    body = text.replace("_", "")
    try:
        return int(body, 0)
    except ValueError:  # Go reads a leading 0 as octal
        return int(body, 8)


# -- --parameters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameters:
    """What ``--parameters VALUE`` gives usacloud, as far as the check can tell."""

    data: dict | None  # the JSON object (None: not read)
    source: str  # "inline" | "file" | "unread" | "broken"
    note: str = ""  # why it was not read, or the decoder's complaint

    def has(self, field: str) -> bool:
        """Whether the JSON sets ``field`` ("Disk.SizeGB") to a non-zero value (keys match as in
        Go's encoding/json: case-insensitively)."""
        node: object = self.data
        for part in field.split("."):
            if not isinstance(node, dict):
                return False
            key = next((k for k in node if k == part), None) or next(
                (k for k in node if isinstance(k, str) and k.lower() == part.lower()), None
            )
            if key is None:
                return False
            node = node[key]
        return node not in (None, "", 0, False, [], {})

    def value(self, field: str) -> object:
        node: object = self.data
        for part in field.split("."):
            if not isinstance(node, dict):
                return None
            node = next((v for k, v in node.items() if isinstance(k, str) and k.lower() == part.lower()), None)
        return node


def load_parameters(value: str, base_dir: str | Path | None) -> Parameters:
    """Read ``--parameters`` as usacloud does: a readable file's content, else the text itself.

    A relative path is read relative to ``base_dir`` (the script's directory); without one, or
    when the file cannot be read here, the parameters are "unread" and checks that need them are
    skipped."""
    text = value.strip()
    if text.startswith(("{", "[")) or text in ("", "null"):
        return _decode(value, "inline")
    path = Path(value)
    if not path.is_absolute():
        if base_dir is None:
            return Parameters(None, "unread", f"`{value}` is relative and the script's directory is not known")
        path = Path(base_dir) / path
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PARAMETERS_BYTES + 1)
    except OSError as exc:
        return Parameters(None, "unread", f"cannot read `{value}` here ({exc.strerror or exc})")
    if len(raw) > MAX_PARAMETERS_BYTES:
        return Parameters(None, "unread", f"`{value}` is larger than {MAX_PARAMETERS_BYTES} bytes")
    return _decode(raw.decode("utf-8", errors="replace"), "file")


def _decode(text: str, source: str) -> Parameters:
    try:
        data = json.loads(text)
    except ValueError as exc:
        return Parameters(None, "broken", f"not JSON: {exc}")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return Parameters(None, "broken", f"a JSON {type(data).__name__}, not an object")
    return Parameters(data, source)


# -- "did you mean" -----------------------------------------------------------------------------


def levenshtein(a: str, b: str) -> int:
    """Edit distance where swapping two neighbours counts as one edit ("lsit" -> "list")."""
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        before, previous = previous, current
    return previous[-1]


def suggest(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Closest candidates by edit distance ("did you mean"), best first."""
    threshold = max(1, len(word) // 3)
    scored = sorted((levenshtein(word, c), c) for c in set(candidates) if c != word)
    return [c for d, c in scored if d <= threshold][:limit]


def suggest_flag(name: str, tiers: Sequence[Iterable[str]], limit: int = 2) -> list[str]:
    """Flag names close to ``name`` ("--nmes" -> "--names"), from the first tier that has any.

    Close means a small edit distance for the name's length (one edit up to 7 letters, two up to
    11, three beyond) or being its start ("--desc" -> "--description"). Tiers go from the
    subcommand's own flags to the shared ones, so `--name` on a list suggests `--names`, never a
    global flag such as `--fake`."""
    core = name.lstrip("-")
    if not name.startswith("--") or not core:
        return []
    threshold = max(1, min(3, len(core) // 4))
    for tier in tiers:
        scored = []
        for candidate in set(tier):
            other = candidate.lstrip("-")
            if other == core:
                continue
            distance = levenshtein(core, other)
            if distance <= threshold:
                scored.append((distance, candidate))
            elif len(core) >= 3 and other.startswith(core):
                scored.append((threshold + 1, candidate))
        if scored:
            return [c for _, c in sorted(scored)][:limit]
    return []
