"""What shows that a fake-mode command which timed out had done its work.

Changing commands can hang for ever *after* doing their work (a race in usacloud's progress
display; list and read never hang). After a timeout such a command counts as done when its effect
is visible: create and update print the resource, the others change the store file, which usacloud
rewrites whole on every change. A wait changes nothing, so a wait that times out fails as ``timeout``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..usacloud import commands

STORE_ENV = tuple(prefix + "FAKE_STORE_PATH" for prefix in ("SAKURACLOUD_", "SAKURA_"))

#: Subcommand kinds that change something (and may hang in fake mode after doing it), and what
#: shows that they did: create and update print the resource; the others print nothing on success
#: but usacloud rewrites the fake store on every change.
EFFECTS = {
    "create": "output",
    "update": "output",
    "delete": "store",
    "power": "store",
    "op": "store",
    "disruptive": "store",
}


def effect(words: Sequence[str]) -> str | None:
    """What shows that a changing command did its work: ``"output"`` (create, update) or ``"store"``
    (delete, power and the other changes); None for a command that changes nothing (list, read, wait)."""
    sub = commands.resolve(words).subcommand
    return EFFECTS.get(sub.kind) if sub is not None else None


def store_path(words: Sequence[str], env: Mapping[str, str]) -> Path | None:
    """The fake store the command uses: its last ``--fake-store``, else the environment's."""
    given = [u.value for u in commands.resolve(words).flags if u.name == "--fake-store" and u.value]
    if given:
        return Path(given[-1])
    value = next((env[name] for name in STORE_ENV if env.get(name)), None)
    return Path(value) if value else None


def fingerprint(path: Path | None) -> str | None:
    """The store file's content digest (None when there is none): what a change leaves behind."""
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
