"""The teardown's plan: what to list, and then what to delete in which order.

From the run's journal, each resource type the run made is listed once, whole (:func:`make`); from
the listings, a resource is deleted only by both marks (:func:`stages`): it carries the run's tags in
tk1v **and** a create of this run printed its ID (or made one of its name). A tag is only a value any
command can set; the journal says what the run created. Deletes go by ID, with the exact match mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..record.cleanup import ResourceRecord
from ..record.vocabulary import ResourceResult
from ..usacloud.commands import SANDBOX_ZONE
from . import resources
from .printed import Listed

GLOBAL_NOTE = "global resources are removed only under --usacloud-allow-global-writes"
NOT_MADE = "it carries the run's tag, but no create of this run made it (another command tagged it): not deleted"
GONE = "already gone"


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
    listings: list[str] = field(default_factory=list)  # resource types to list (whole), in order
    by_id: list[Deletion] = field(default_factory=list)
    unreachable: list[ResourceRecord] = field(default_factory=list)
    tagged: list[str] = field(default_factory=list)  # the types found by the run's tag
    #: IDs the run's creates printed, by type; None: no journal to hold the listings to (the sweep)
    made: dict[str, set[str]] | None = None
    #: names of the creates of each type whose ID was not seen ("" when the name is not known either)
    unseen: dict[str, set[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.listings or self.by_id or self.unreachable)

    def made_it(self, resource: str, item: Listed) -> bool:
        """Whether a create of this run made ``item`` (always, without a journal)."""
        if self.made is None or item.id in self.made.get(resource, ()):
            return True
        names = self.unseen.get(resource, ())
        return "" in names or item.name in names


@dataclass
class Staged:
    """The deletions stage by stage, and what the listings settled without a call."""

    stages: list[list[Deletion]]
    settled: list[ResourceRecord] = field(default_factory=list)


def merge(entries: Iterable[dict]) -> list[dict]:
    """The journal with one entry per create: its last word (written before and after it ran)."""
    merged: dict[str, dict] = {}
    for entry in entries:
        key = str(entry.get("key") or id(entry))
        merged[key] = {**merged.get(key, {}), **entry}
    return list(merged.values())


def make(entries: Iterable[dict], tags: Sequence[str], allow_global: bool) -> Plan:
    plan = Plan(tuple(tags), made={})
    for entry in merge(entries):
        resource = str(entry.get("resource") or "")
        if not resource:
            continue
        by, script = entry.get("by"), str(entry.get("script") or "")
        ids = [str(i) for i in entry.get("ids") or ()]
        if resources.is_global(resource) and not allow_global:
            plan.unreachable.append(_left(entry, GLOBAL_NOTE))
        elif by == "tag":
            made = [resource, "disk"] if entry.get("disks", "none") != "none" else [resource]  # a server's disk
            plan.tagged += [kind for kind in made if kind not in plan.tagged]
            plan.made.setdefault(resource, set()).update(ids)
            if not ids and entry.get("state") != "failed":  # made (or maybe) without its ID seen: by its name
                plan.unseen.setdefault(resource, set()).add(str(entry.get("name") or ""))
        elif by == "id" and ids:
            name = str(entry.get("name") or "")
            zone = None if resources.is_global(resource) else SANDBOX_ZONE  # the run creates nothing elsewhere
            plan.by_id += [Deletion(resource, i, name, zone, script=script) for i in ids]
            plan.made.setdefault(resource, set()).update(ids)
        elif entry.get("state") in ("done", "unsure", "running"):  # made, or maybe: not reachable
            unseen = "its create did not finish: the ID it made was not seen"
            reason = entry.get("reason") or (unseen if entry.get("state") == "running" else "it takes no tags")
            plan.unreachable.append(_left(entry, str(reason)))
    plan.tagged.sort(key=resources.stage_of)
    by_id = sorted({d.resource for d in plan.by_id} - set(plan.tagged), key=resources.stage_of)
    plan.listings = sorted([*plan.tagged, *by_id], key=resources.stage_of)
    return plan


def stages(plan: Plan, listings: Mapping[str, list[Listed]], keep: Callable[[Listed], bool] | None = None) -> Staged:
    """The deletions, stage by stage (:data:`.resources.STAGES`), from the whole listings of each type:
    what carries every tag in tk1v (the run's, and under ``script`` cleanup the script's), that the run
    made (a disk made by a server the run made counts) and ``keep`` accepts, and the recorded IDs the
    listings still have; and what was settled without a call (a tagged resource the run did not make
    is left, named; or already gone). No delete goes where another resource of the type is named like
    the ID or carries it as a tag (usacloud would match it too)."""
    ours, settled = _ours(plan, listings, keep)
    found = _deletions(ours)
    for deletion in plan.by_id:
        listed = listings.get(deletion.resource)
        if listed is None:
            continue  # its listing failed: the teardown says so for the type
        if any(item.id == deletion.id for item in listed):
            found.append(deletion)
        else:
            settled.append(_outcome(deletion, ResourceResult.DELETED, GONE))
    doomed = {(d.resource, d.id) for d in found}
    by_stage: dict[int, list[Deletion]] = {}
    for deletion in found:
        also = [
            i
            for i in listings.get(deletion.resource, ())
            if (i.name == deletion.id or deletion.id in i.tags) and (deletion.resource, i.id) not in doomed
        ]
        if also:
            names = ", ".join(f"{i.name or '(no name)'} (ID {i.id})" for i in also[:3])
            why = f"{names} is named like its ID or carries it as a tag: a delete by that ID would remove it too"
            settled.append(_outcome(deletion, ResourceResult.LEFT, why))
        else:
            by_stage.setdefault(resources.stage_of(deletion.resource), []).append(deletion)
    return Staged([by_stage[k] for k in sorted(by_stage)], settled)


def _ours(
    plan: Plan, listings: Mapping[str, list[Listed]], keep: Callable[[Listed], bool] | None
) -> tuple[dict[str, list[Listed]], list[ResourceRecord]]:
    """The listed resources the run made and may delete, by type; and the tagged ones it did not make."""
    tags = set(plan.tags)

    def candidate(resource: str, item: Listed) -> bool:
        return tags <= set(item.tags) and _in_sandbox(resource, item) and (keep is None or keep(item))

    ours = {r: [i for i in items if candidate(r, i) and plan.made_it(r, i)] for r, items in listings.items()}
    if plan.made is not None:  # a disk made by a server the run made: its ID was never printed
        connected = {d for server in ours.get("server", ()) for d in server.disks}
        mine = ours.setdefault("disk", [])
        mine += [i for i in listings.get("disk", ()) if i.id in connected and candidate("disk", i) and i not in mine]
    strangers = [
        ResourceRecord(resource, item.id, item.name, item.zone, ResourceResult.LEFT, NOT_MADE)
        for resource, items in listings.items()
        for item in items
        if candidate(resource, item) and item not in ours.get(resource, ())
    ]
    return ours, strangers


def _deletions(ours: Mapping[str, list[Listed]]) -> list[Deletion]:
    """A deletion per resource; a server whose every disk is deleted too takes them ``--with-disks``."""
    deleted_disks = {i.id for i in ours.get("disk", ())}
    removed_with: set[str] = set()
    found: list[Deletion] = []
    for resource, items in ours.items():
        for item in items:
            with_disks = resource == "server" and bool(item.disks) and set(item.disks) <= deleted_disks
            if with_disks:
                removed_with |= set(item.disks)
            disks = item.disks if with_disks else ()
            found.append(Deletion(resource, item.id, item.name, item.zone, with_disks, disks))
    return [d for d in found if not (d.resource == "disk" and d.id in removed_with)]


def _outcome(deletion: Deletion, result: ResourceResult, reason: str) -> ResourceRecord:
    return ResourceRecord(deletion.resource, deletion.id, deletion.name, deletion.zone, result, reason, deletion.script)


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
