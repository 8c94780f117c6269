"""`usacloud rest`: where a request goes, and what it would upload.

usacloud treats a URL that starts with ``https://`` as complete; anything else is a path it appends
to ``https://secure.sakura.ad.jp/cloud/zone/<zone>/api/cloud/1.1`` (the zone is the run's pin,
tk1v). The sandbox lets a request through only when it certainly stays on Sakura's API for tk1v:

* a URL with a scheme or a ``//host`` must be ``https://secure.sakura.ad.jp/cloud/zone/tk1v/...``;
* the zone is read after percent-decoding (repeatedly), case folding and path normalisation: any
  ``.``/``..`` segment, empty segment (``//``) or backslash in the decoded path, or a decoded path
  that does not start with ``/cloud/zone/tk1v/`` as written, is refused (the policy pins a plain
  ``/cloud/zone/is1a/`` to tk1v before this check);
* a relative path must not climb: no ``.``/``..`` segment or backslash once decoded;
* ``-d``/``--data`` must be inline JSON that names no local file (usacloud reads a file path and
  would upload the file).
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
    """Why the URL or path ``word`` could leave Sakura's API for tk1v, or None."""
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
