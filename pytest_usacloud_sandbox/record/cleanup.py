"""What a teardown (or a sweep) did to each resource: the records behind the report's ``cleanup``.

One :class:`ResourceRecord` per resource: ``deleted``, ``left`` (with the reason), ``kept`` (under
``--usacloud-cleanup=off``), or in fake mode ``discarded`` (its fake store went with its worker).
A :class:`CleanupRecord` gathers them with the teardown's own calls (each a command record, like a
script's) for the summary line ``cleanup: N deleted, M left``, the report's ``cleanup`` section and
the GitHub warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from .command import CommandRecord
from .fields import Count, Record, Seconds, computed, doc
from .vocabulary import ResourceResult

SHOWN_LEFT = 20  # leftovers listed one by one in the summary


@dataclass(frozen=True)
class ResourceRecord:
    """One resource the run created (or, in a sweep, an earlier run left), and what became of it."""

    type: str = field(metadata=doc("the usacloud resource (`server`, `switch`, ...)"))
    id: str | None = field(metadata=doc("its ID; null when it is not known (a listing failed, no ID was printed)"))
    name: str = field(default="", metadata=doc("its name, when known"))
    zone: str | None = field(
        default=None, metadata=doc("its zone (`tk1v`); null for a global resource or when not known")
    )
    result: ResourceResult = field(default=ResourceResult.LEFT, metadata=doc("what became of it"))
    reason: str = field(
        default="",
        metadata=doc(
            "why it was left or kept; for a deleted one a note (`with its server ...`, `already gone`) or empty"
        ),
    )
    script: str = field(default="", metadata=doc("the node id of the script that made it, when known"))

    def describe(self) -> str:
        what = self.type + (f" {self.id}" if self.id else "") + (f" {self.name!r}" if self.name else "")
        where = f" ({self.zone})" if self.zone else ""
        by = f", made by {self.script}" if self.script else ""
        return f"{what}{where}{by}: {self.reason or self.result}"


@dataclass
class CleanupRecord(Record):
    """What the run created and what its teardown (or the sweep) removed."""

    mode: Literal["run", "script", "off", "sweep"] = field(
        metadata=doc("`--usacloud-cleanup` (`run`, `script`, `off`), or `sweep` for `--usacloud-sweep`")
    )
    tag: str = field(
        metadata=doc("the run's tag, carried by everything it created (`usacloud-run=YYMMDDhhmmss-xxxxxx`)")
    )
    resources: Sequence[ResourceRecord] = field(
        default_factory=list, metadata=doc("each resource and its result (below)")
    )
    commands: Sequence[CommandRecord] = field(
        default_factory=list,
        metadata=doc("the teardown's own usacloud calls (listings and deletes), recorded like a script's"),
    )
    interrupted: str | None = field(
        default=None, metadata=doc("why the teardown ended early (its timeout, a second Ctrl-C); null when it did not")
    )
    seconds: Seconds = field(default=0.0, metadata=doc("time the teardown took"))

    def add(self, other: CleanupRecord) -> None:
        self.resources += other.resources
        self.commands += other.commands
        self.seconds += other.seconds
        self.interrupted = self.interrupted or other.interrupted

    def count(self, result: ResourceResult) -> int:
        return sum(1 for r in self.resources if r.result == result)

    @computed("resources deleted")
    def deleted(self) -> Count:
        return self.count(ResourceResult.DELETED)

    @computed("resources left behind (each with its reason in `resources`)")
    def left(self) -> Count:
        return self.count(ResourceResult.LEFT)

    @computed("resources kept under `--usacloud-cleanup=off`")
    def kept(self) -> Count:
        return self.count(ResourceResult.KEPT)

    @computed("fake mode: resources in fake stores that went with their worker")
    def discarded(self) -> Count:
        return self.count(ResourceResult.DISCARDED)

    @property
    def leftovers(self) -> list[ResourceRecord]:
        return [r for r in self.resources if r.result == ResourceResult.LEFT]

    def line(self) -> str:
        head = f"cleanup: {self.deleted} deleted, {self.left} left"
        if self.mode == "off":
            head += f", {self.kept} kept (--usacloud-cleanup=off)"
        if self.discarded:
            head += f", {self.discarded} discarded with their fake stores"
        calls = f" ({len(self.commands)} calls, {self.seconds:.1f}s)" if self.commands else ""
        stopped = f"; the teardown ended early: {self.interrupted}" if self.interrupted else ""
        return head + calls + stopped

    def lines(self, sweep_hint: list[str]) -> list[str]:
        """The summary's lines: the count, each leftover and why, and under ``off`` how to remove them."""
        out = [self.line()]
        left = self.leftovers
        for resource in left[:SHOWN_LEFT]:
            out.append(f"  left: {resource.describe()}")
        if len(left) > SHOWN_LEFT:
            out.append(f"  ... and {len(left) - SHOWN_LEFT} more (see --usacloud-report)")
        if self.mode == "off" or left:
            out.append(f"  the run's tag: {self.tag}; to remove what carries it later:")
            out.extend(f"    {line}" for line in sweep_hint)
        return out
