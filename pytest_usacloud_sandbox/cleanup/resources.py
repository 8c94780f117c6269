"""What the teardown knows of each resource: whether it takes tags, how it is deleted, and when.

Everything here is read from usacloud's command tree (``usacloud/commands.py``): a resource takes
the run's tag when its create subcommand has ``--tags`` (26 of them in 1.22.8), its list can filter
by tag when its list has ``--tags``, it is deleted with ``--force`` (shut down first) when it is a
server or an appliance. The order is the dependency order: what uses something goes first.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from ..usacloud import commands

#: Deletion stages, in order; the resources of one stage do not depend on each other.
STAGES: tuple[tuple[str, ...], ...] = (
    ("server",),
    ("load-balancer", "vpc-router", "nfs", "database", "mobile-gateway", "auto-backup"),
    ("private-host",),
    ("disk",),
    ("archive",),
    ("cdrom",),
    ("switch",),
    ("internet",),
    ("bridge",),
    ("packet-filter",),
    # global resources (only those the run made under --usacloud-allow-global-writes)
    ("auto-scale", "proxy-lb", "gslb", "simple-monitor", "local-router", "enhanced-db", "container-registry"),
    ("certificate-authority", "esme", "sim", "dns", "note", "ssh-key", "license"),
    ("icon",),
)
#: Shut down before deleting: ``delete --force``. For a mobile gateway that also clears the IPs of its
#: SIMs and removes them (global SIMs, through the is1a endpoint); a gateway of this run has SIMs only
#: if a command of the run put them there (``--sims``), which needs ``--usacloud-allow-global-writes``.
FORCED = frozenset({"server", "load-balancer", "vpc-router", "nfs", "database", "mobile-gateway"})


def stage_of(resource: str) -> int:
    """The resource's deletion stage (resources the table does not order go last)."""
    for index, names in enumerate(STAGES):
        if resource in names:
            return index
    return len(STAGES)


@functools.cache
def _subcommand(resource: str, name: str) -> commands.Subcommand | None:
    res = commands.find_resource(resource)
    return None if res is None else res.find_subcommand(name)


def is_global(resource: str) -> bool:
    res = commands.find_resource(resource)
    return res is not None and res.is_global


def lists_by_tag(resource: str) -> bool:
    """``<resource> list --tags`` exists: the teardown can find what carries the run's tag."""
    sub = _subcommand(resource, "list")
    return sub is not None and sub.find_flag("--tags") is not None


def deletes_by_id(resource: str) -> bool:
    """``<resource> delete ID`` exists (a multi or single target delete)."""
    sub = _subcommand(resource, "delete")
    return sub is not None and sub.selector in ("single", "multi")


def takes_tags(sub: commands.Subcommand) -> bool:
    return sub.find_flag("--tags") is not None


def list_words(resource: str, tags: Sequence[str]) -> list[str]:
    """``usacloud <resource> list --tags T ... -o json`` (in tk1v for a zoned resource); no tags: every one."""
    words = ["usacloud", resource, "list"]
    for tag in tags:
        words += ["--tags", tag]
    if not is_global(resource):
        words += ["--zone", commands.SANDBOX_ZONE]
    return [*words, "-o", "json"]


def delete_words(resource: str, resource_id: str, with_disks: bool = False) -> list[str]:
    """``usacloud <resource> delete -y --argument-match-mode exact [--force] [--with-disks] [--zone tk1v]
    ID``: one resource by its ID (in usacloud's default mode an ID also matches every name containing it)."""
    words = ["usacloud", resource, "delete", "-y", "--argument-match-mode", "exact"]
    if resource in FORCED:
        words.append("--force")
    if with_disks and resource == "server":
        words.append("--with-disks")
    if not is_global(resource):
        words += ["--zone", commands.SANDBOX_ZONE]
    return [*words, resource_id]


def taggable() -> tuple[str, ...]:
    """Every resource whose create takes ``--tags`` and whose list filters by them, in deletion order."""
    found = [
        res.name
        for res in commands.all_resources()
        if (sub := res.find_subcommand("create")) is not None and takes_tags(sub) and lists_by_tag(res.name)
    ]
    return tuple(sorted(found, key=lambda name: (stage_of(name), name)))


#: The ``server create`` fields that make a new disk (any ``Disk.*`` but ``Disk.ID``, which connects one).
_CONNECTS = ("Disk.ID", "DiskIDs")


def server_disks(inv: commands.Invocation) -> str:
    """What a ``server create`` does about disks, from its flags: ``"new"`` (it makes a disk and connects
    none that exists), ``"existing"`` (it connects an existing disk, ``--disk-id`` / ``--disk-ids``),
    ``"unknown"`` (``--disks`` JSON), or ``"none"``."""
    fields = [u.flag.field for u in inv.flags if u.flag is not None and u.flag.field]
    if any(f in _CONNECTS for f in fields):
        return "existing"
    if "DisksData" in fields:
        return "unknown"
    if any(f.startswith("Disk.") for f in fields):
        return "new"
    return "none"
