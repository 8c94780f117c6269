"""What a teardown (or a sweep) did to each resource, and how the run tells it.

One :class:`Outcome` per resource: ``deleted``, ``left`` (with the reason), ``kept`` (under
``--usacloud-cleanup=off``), or in fake mode ``discarded`` (its fake store went with its worker).
A :class:`Summary` gathers them with the teardown's own calls (each a command record, like a
script's) for the summary line ``cleanup: N deleted, M left``, the report's ``cleanup`` section and
the GitHub warning.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..state import records as rec

DELETED, LEFT, KEPT = "deleted", "left", "kept"
DISCARDED = "discarded"  # fake mode: in a fake store that went with its worker's run directory
SHOWN_LEFT = 20  # leftovers listed one by one in the summary


@dataclass(frozen=True)
class Outcome:
    type: str
    id: str | None
    name: str = ""
    zone: str | None = None
    result: str = LEFT
    reason: str = ""
    script: str = ""  # the script that made it, when known

    def describe(self) -> str:
        what = self.type + (f" {self.id}" if self.id else "") + (f" {self.name!r}" if self.name else "")
        where = f" ({self.zone})" if self.zone else ""
        by = f", made by {self.script}" if self.script else ""
        return f"{what}{where}{by}: {self.reason or self.result}"


@dataclass
class Summary:
    mode: str  # run | script | off
    tag: str
    outcomes: list[Outcome] = field(default_factory=list)
    commands: list[rec.CommandRecord] = field(default_factory=list)
    interrupted: str = ""  # why the teardown ended early ("" when it did not)
    seconds: float = 0.0

    def add(self, other: Summary) -> None:
        self.outcomes += other.outcomes
        self.commands += other.commands
        self.seconds += other.seconds
        self.interrupted = self.interrupted or other.interrupted

    def count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    @property
    def left(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.result == LEFT]

    def line(self) -> str:
        head = f"cleanup: {self.count(DELETED)} deleted, {self.count(LEFT)} left"
        if self.mode == "off":
            head += f", {self.count(KEPT)} kept (--usacloud-cleanup=off)"
        if self.count(DISCARDED):
            head += f", {self.count(DISCARDED)} discarded with their fake stores"
        calls = f" ({len(self.commands)} calls, {self.seconds:.1f}s)" if self.commands else ""
        stopped = f"; the teardown ended early: {self.interrupted}" if self.interrupted else ""
        return head + calls + stopped

    def lines(self, sweep_hint: list[str]) -> list[str]:
        """The summary's lines: the count, each leftover and why, and under ``off`` how to remove them."""
        out = [self.line()]
        left = self.left
        for outcome in left[:SHOWN_LEFT]:
            out.append(f"  left: {outcome.describe()}")
        if len(left) > SHOWN_LEFT:
            out.append(f"  ... and {len(left) - SHOWN_LEFT} more (see --usacloud-report)")
        if self.mode == "off" or left:
            out.append(f"  the run's tag: {self.tag}; to remove what carries it later:")
            out.extend(f"    {line}" for line in sweep_hint)
        return out

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "tag": self.tag,
            "deleted": self.count(DELETED),
            "left": self.count(LEFT),
            "kept": self.count(KEPT),
            "discarded": self.count(DISCARDED),
            "interrupted": self.interrupted or None,
            "seconds": self.seconds,
            "resources": [asdict(o) for o in self.outcomes],
            "commands": [rec.command_dict(c) for c in self.commands],
        }
