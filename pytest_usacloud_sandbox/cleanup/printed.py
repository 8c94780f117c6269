"""What usacloud printed, read back: the IDs a create printed, and the resources a list printed.

A create prints what it made in the form the script asked for: ``-q`` one ID per line, ``-o json``
a pretty array, ``-o yaml`` a list, the default table with an ``ID`` column. ``--format`` and
``--query`` print whatever they were told to: no ID can be read from them. The teardown's own
listings always ask for JSON. Keys are Go field names; IDs are numbers (strings in some builds).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_ID = re.compile(r"\d{1,20}")
#: an item's own ``ID:`` in a YAML list: its first key (``- ID:``) or one of the others (two spaces in);
#: nested ones (``Zone:``, ``Disks:`` items) are deeper, a nested list's first key is ``  - ID:``
_YAML_ID = re.compile(r'^(?:- |  )?ID: *"?(\d{1,20})"?[ \t]*$', re.M)


@dataclass(frozen=True)
class Listed:
    """One resource as a list printed it."""

    id: str
    name: str = ""
    zone: str | None = None
    tags: tuple[str, ...] = ()
    disks: tuple[str, ...] = ()  # a server's connected disks (their IDs)

    @classmethod
    def from_json(cls, item: dict) -> Listed | None:
        rid = item.get("ID")
        if rid is None or not _ID.fullmatch(str(rid)):
            return None
        zone = item.get("Zone")
        if isinstance(zone, dict):
            zone = zone.get("Name")
        tags = item.get("Tags") if isinstance(item.get("Tags"), list) else []
        disks = item.get("Disks") if isinstance(item.get("Disks"), list) else []
        return cls(
            id=str(rid),
            name=str(item.get("Name") or ""),
            zone=str(zone) if zone else None,
            tags=tuple(str(t) for t in tags),
            disks=tuple(str(d["ID"]) for d in disks if isinstance(d, dict) and d.get("ID") is not None),
        )


def listed(stdout: str) -> list[Listed] | None:
    """The resources of a ``list -o json``; [] for no output (an empty result prints nothing); None if it
    is not such a listing."""
    if not stdout.strip():
        return []
    try:
        data = json.loads(stdout)
    except ValueError:
        return None
    if not isinstance(data, list):
        return None
    found = [Listed.from_json(item) for item in data if isinstance(item, dict)]
    return None if any(item is None for item in found) else [item for item in found if item is not None]


def printed_ids(stdout: str) -> list[str]:
    """The IDs a create printed, whatever its output form; [] when none can be read."""
    text = stdout.strip()
    if not text:
        return []
    items = listed(text)
    if items:
        return [item.id for item in items]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if all(_ID.fullmatch(line) for line in lines):  # -q
        return lines
    found = _YAML_ID.findall(text)
    if found:
        return found
    return _table_ids(lines)


def _table_ids(lines: list[str]) -> list[str]:
    """The ``ID`` column of usacloud's table (``| ID | Name |`` rows between ``+---+`` borders)."""
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if line.startswith("|")]
    if not rows or "ID" not in rows[0]:
        return []
    column = rows[0].index("ID")
    return [row[column] for row in rows[1:] if len(row) > column and _ID.fullmatch(row[column])]
