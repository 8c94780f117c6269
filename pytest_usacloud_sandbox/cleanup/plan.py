"""The teardown's plan: what to list, and then what to delete in which order.

From the run's journal (what its creates were about to make, and what they printed):

* each resource type made by a create that got the run's tag is listed once, by that tag
  (``list --tags`` repeated means all of them: under ``script`` cleanup the script's tag too);
* resources that take no tag are deleted by the ID their create printed;
* what neither way can reach is left, with the reason.

Then, from the listings, the deletions by stage (:data:`.resources.STAGES`): only resources that
carry every tag listed by, and only in tk1v. A server whose every disk carries the tag too is
deleted ``--with-disks``; otherwise its tagged disks go in the disk stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..record.cleanup import ResourceRecord
from ..record.vocabulary import ResourceResult
from ..usacloud.commands import SANDBOX_ZONE
from . import resources
from .printed import Listed

GLOBAL_NOTE = "global resources are removed only under --usacloud-allow-global-writes"


@dataclass(frozen=True)
class Deletion:
    resource: str
    id: str
    name: str = ""
    zone: str | None = None
    with_disks: bool = False
    disks: tuple[str, ...] = ()  # removed with it (--with-disks)
    script: str = ""

    @property
    def words(self) -> list[str]:
        return resources.delete_words(self.resource, self.id, self.with_disks)


@dataclass
class Plan:
    tags: tuple[str, ...]
    listings: list[str] = field(default_factory=list)  # resource types to list by the tags, in order
    by_id: list[Deletion] = field(default_factory=list)
    unreachable: list[ResourceRecord] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.listings or self.by_id or self.unreachable)


def merge(entries: Iterable[dict]) -> list[dict]:
    """The journal with one entry per create: its last word (written before and after it ran)."""
    merged: dict[str, dict] = {}
    for entry in entries:
        key = str(entry.get("key") or id(entry))
        merged[key] = {**merged.get(key, {}), **entry}
    return list(merged.values())


def make(entries: Iterable[dict], tags: Sequence[str], allow_global: bool) -> Plan:
    plan = Plan(tuple(tags))
    for entry in merge(entries):
        resource = str(entry.get("resource") or "")
        if not resource:
            continue
        by, script = entry.get("by"), str(entry.get("script") or "")
        if resources.is_global(resource) and not allow_global:
            plan.unreachable.append(_left(entry, GLOBAL_NOTE))
        elif by == "tag":
            made = [resource, "disk"] if entry.get("disks", "none") != "none" else [resource]  # a server's disk
            plan.listings += [kind for kind in made if kind not in plan.listings]
        elif by == "id" and entry.get("ids"):
            name = str(entry.get("name") or "")
            zone = None if resources.is_global(resource) else SANDBOX_ZONE  # the run creates nothing elsewhere
            plan.by_id += [Deletion(resource, str(i), name, zone, script=script) for i in entry["ids"]]
        elif entry.get("state") in ("done", "unsure", "running"):  # made, or maybe: not reachable
            unseen = "its create did not finish: the ID it made was not seen"
            reason = entry.get("reason") or (unseen if entry.get("state") == "running" else "it takes no tags")
            plan.unreachable.append(_left(entry, str(reason)))
    plan.listings.sort(key=resources.stage_of)
    return plan


def stages(plan: Plan, listings: Mapping[str, list[Listed]]) -> list[list[Deletion]]:
    """The deletions, stage by stage: what the listings found carrying every tag, and the recorded IDs."""
    tags = set(plan.tags)
    ours = {r: [i for i in items if tags <= set(i.tags) and _in_sandbox(r, i)] for r, items in listings.items()}
    tagged_disks = {i.id for i in ours.get("disk", ())}
    removed_with: set[str] = set()
    found: list[Deletion] = []
    for resource, items in ours.items():
        for item in items:
            with_disks = resource == "server" and bool(item.disks) and set(item.disks) <= tagged_disks
            if with_disks:
                removed_with |= set(item.disks)
            disks = item.disks if with_disks else ()
            found.append(Deletion(resource, item.id, item.name, item.zone, with_disks, disks))
    found = [d for d in found if not (d.resource == "disk" and d.id in removed_with)] + plan.by_id
    by_stage: dict[int, list[Deletion]] = {}
    for deletion in found:
        by_stage.setdefault(resources.stage_of(deletion.resource), []).append(deletion)
    return [by_stage[k] for k in sorted(by_stage)]


def _in_sandbox(resource: str, item: Listed) -> bool:
    """Zoned resources only in tk1v (the listing was made there; the zone it printed must agree)."""
    return resources.is_global(resource) or item.zone in (None, SANDBOX_ZONE)


def _left(entry: dict, reason: str) -> ResourceRecord:
    ids = entry.get("ids") or [None]
    return ResourceRecord(
        str(entry.get("resource")),
        ids[0],
        str(entry.get("name") or ""),
        None,
        ResourceResult.LEFT,
        reason,
        str(entry.get("script") or ""),
    )
