"""`usacloud rest`: where a request goes, and what it would upload.

usacloud takes a URL that starts with ``https://`` as complete and appends anything else to the API
root of the run's zone (pinned to tk1v). A request goes through only when it certainly stays on
Sakura's API for tk1v, read after repeated percent-decoding and path normalisation
(:func:`target_problem`), and its ``-d`` is inline JSON that names no local file (:func:`data_problem`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .commands import SANDBOX_ZONE, Invocation

API_HOST = "secure.sakura.ad.jp"
ZONE_PREFIX = f"/cloud/zone/{SANDBOX_ZONE}/"
#: Path segments of power operations: PUT .../power boots, PUT .../reset resets, PUT .../qemu/nmi
#: sends an NMI, PUT .../keyboard sends keys (ctrl-alt-del); DELETE .../power shuts down.
POWER_SEGMENTS = frozenset({"power", "reset", "nmi", "keyboard"})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


@dataclass(frozen=True)
class RestProblem:
    rule: str  # "rest-url" | "zone-escape" | "rest-data"
    message: str


def is_request(inv: Invocation) -> bool:
    return inv.subcommand is not None and inv.subcommand.kind == "request"


def method(inv: Invocation) -> str:
    """The HTTP method, lower case: the last ``-X``/``--method`` wins (pflag), ``get`` by default."""
    uses = inv.flag_uses("--method")
    return (uses[-1].value or "").lower() if uses else "get"


def decoded(text: str) -> str:
    """Percent-decoded until nothing changes (a double-encoded ``%252e`` is a dot too)."""
    for _ in range(10):
        new = unquote(text)
        if new == text:
            break
        text = new
    return text


def _path(word: str) -> str:
    return re.split(r"[?#]", word, maxsplit=1)[0]


def has_scheme(word: str) -> bool:
    return bool(_SCHEME.match(word)) or word.startswith(("//", "\\\\"))


def target_problem(word: str) -> RestProblem | None:
    """Why the URL or path ``word`` could leave Sakura's API for tk1v, or None: a URL must be
    ``https://secure.sakura.ad.jp/cloud/zone/tk1v/...`` as written and once decoded, with no ``.``,
    ``..`` or empty segment and no backslash (the policy has pinned a plain ``/cloud/zone/is1a/``
    to tk1v before); a relative path must not climb."""
    if has_scheme(word):
        return _absolute_problem(word)
    path = decoded(_path(word))
    if "\\" in path or any(seg in (".", "..") for seg in path.split("/")):
        return RestProblem("zone-escape", f"the rest path {word!r} could climb out of {ZONE_PREFIX}")
    return None


def _absolute_problem(word: str) -> RestProblem | None:
    try:
        parts = urlsplit(word)
    except ValueError:
        parts = None
    if not word.startswith("https://") or parts is None or parts.netloc.lower() not in (API_HOST, f"{API_HOST}:443"):
        return RestProblem(
            "rest-url", f"the rest URL {word!r} does not go to https://{API_HOST}/ (only Sakura's API carries the key)"
        )
    raw = parts.path
    path = decoded(raw)
    segments = path.split("/")
    climbs = "\\" in path or any(seg in (".", "..") for seg in segments) or "" in segments[1:-1]
    if climbs or not raw.startswith(ZONE_PREFIX) or not path.startswith(ZONE_PREFIX):
        return RestProblem(
            "zone-escape",
            f"the rest URL {word!r} does not stay under {ZONE_PREFIX} (read after decoding and normalising)",
        )
    return None


def is_power_path(word: str) -> bool:
    path = decoded(_path(word)).lower()
    return any(seg in POWER_SEGMENTS for seg in path.split("/"))


def data_problem(value: str | None, cwd: Path) -> RestProblem | None:
    """``-d``/``--data``: inline JSON only, never a local file (usacloud would upload it)."""
    if value is None:
        return None  # usacloud rejects the missing value itself
    if value and os.path.lexists(cwd / value):
        return RestProblem("rest-data", f"-d/--data {value!r} names a local file, which usacloud would upload")
    try:
        json.loads(value)
    except ValueError:
        return RestProblem(
            "rest-data",
            "-d/--data is not inline JSON (usacloud reads it as a file path and uploads the file)",
        )
    return None


def problems(inv: Invocation, cwd: Path) -> list[RestProblem]:
    found = [p for p in map(target_problem, inv.positionals) if p is not None]
    found += [p for p in (data_problem(u.value, cwd) for u in inv.flag_uses("--data")) if p is not None]
    return found


def dangerous(inv: Invocation) -> str | None:
    """Why the request is a destructive or power operation (DELETE, or PUT on a power path), or None."""
    verb = method(inv)
    if verb == "delete":
        return "`rest -X DELETE` deletes (or powers off) what it names"
    if verb == "put" and any(is_power_path(w) for w in inv.positionals):
        return "`rest -X PUT` on a power path boots, resets or sends keys to a server or appliance"
    return None
