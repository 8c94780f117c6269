"""Deletes, updates and every other command that changes what it names touch only what this run made.

usacloud matches each target of such a command against every resource of the zone by ID, tag and
name, the name by substring unless the mode is exact: ``server delete -y web`` also removes another
run's ``web-2`` (``switch update -y web`` rewrites it). So the resource is listed first, each target
matched as usacloud would (:func:`resolve`), and the command runs on the IDs this run made, with
``--argument-match-mode exact``, or is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..usacloud import commands
from ..usacloud.policy import Refusal
from . import resources
from .printed import Listed

ANY_OPTION = "--usacloud-allow-dangerous=any"
#: usacloud's order (pkg/config: envvar.StringFromEnvMulti): the first one set wins; the flag over both
MATCH_MODE_ENV = ("SAKURA_ARGUMENT_MATCH_MODE", "SAKURACLOUD_ARGUMENT_MATCH_MODE")
MATCH_MODE_FLAG = "--argument-match-mode"
_LOCAL = frozenset({"config"})  # local profile files, not cloud resources
SHOWN = 3  # strangers named in a refusal


@dataclass(frozen=True)
class Targets:
    """The targets of a changing command: which words, of which resource, matched how."""

    resource: str
    words: tuple[str, ...]
    indexes: tuple[int, ...]
    exact: bool

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(self.words[i] for i in self.indexes)


def targets(words: Sequence[str], env: Mapping[str, str]) -> Targets | Refusal | None:
    """What must be resolved before this (dangerous or changing) command runs: its Targets, a Refusal when
    they cannot be checked, or None when it acts on no cloud resource by name (`ssh`, profiles)."""
    words = tuple(words)
    inv = commands.resolve(words)
    res, sub = inv.resource, inv.subcommand
    if res is None or sub is None or sub.kind == "connect" or res.name in _LOCAL:
        return None
    if sub.kind == "request" or sub.selector not in ("single", "multi"):
        what = f"`{res.name} {sub.name}`"
        return refusal(f"{what} names what it acts on in a way the run cannot check against its tag")
    indexes = _positional_indexes(words, inv)
    if len(indexes) != len(inv.positionals):
        return refusal(f"the targets of `{res.name} {sub.name}` could not be read")
    return Targets(res.name, words, tuple(indexes), _exact(inv, env))


@dataclass(frozen=True)
class Missing:
    """Targets that match nothing in the listing: the command fails as usacloud's would (not found)."""

    message: str


def resolve(
    found: Targets, listing: Sequence[Listed], owned: Callable[[Listed], bool]
) -> tuple[str, ...] | Refusal | Missing:
    """The command's words with its targets replaced by the IDs they match (and usacloud told to match
    them exactly), a Refusal naming the matches this run did not create (or a resource an ID would
    match besides its own), or Missing when a target matches nothing."""
    ids: list[str] = []
    strangers: list[Listed] = []
    unmatched: list[str] = []
    for value in found.values:
        matches = [item for item in listing if _matches(item, value, found.exact)]
        if not matches:
            unmatched.append(value)
        for item in matches:
            if not owned(item):
                if item not in strangers:
                    strangers.append(item)
            elif item.id not in ids:
                ids.append(item.id)
    written = " ".join(repr(v) for v in found.values) or "no target"
    if strangers:
        names = _named(strangers)
        return refusal(
            f"`{found.resource}` {written} matches {names}, not created by this run "
            "(it carries neither the run's tag nor an ID the run recorded)"
        )
    if unmatched:
        query = ", ".join(f'"{v}"' for v in unmatched)
        return Missing(f"target resource not found: query=[{query}] (no {found.resource} of the zone matches it)")
    also = [item for item in listing if item.id not in ids and any(item.name == i or i in item.tags for i in ids)]
    if also:
        return refusal(
            f"`{found.resource}` {written}: an ID it resolves to is also the name or a tag of {_named(also)}, "
            "which usacloud would act on as well"
        )
    first = found.indexes[0] if found.indexes else len(found.words)
    skip = set(found.indexes)
    head = list(found.words[:first])
    tail = [w for i, w in enumerate(found.words) if i >= first and i not in skip]
    return exact((*head, *ids, *tail))


def exact(words: Sequence[str]) -> tuple[str, ...]:
    """``words`` with ``--argument-match-mode exact`` after the subcommand (any other match mode given
    taken out): usacloud then matches an ID only to the resource with that ID (or that name or tag)."""
    words = tuple(words)
    inv = commands.resolve(words)
    drop = {u.index for u in inv.flags if u.flag is not None and u.flag.name == MATCH_MODE_FLAG}
    drop |= {u.value_index for u in inv.flags if u.flag is not None and u.flag.name == MATCH_MODE_FLAG}
    at = inv.subcommand_index if inv.subcommand_index is not None else inv.resource_index
    at = len(words) - 1 if at is None else at
    kept = [(i, w) for i, w in enumerate(words) if i not in drop]
    out = [w for i, w in kept if i <= at]
    return (*out, MATCH_MODE_FLAG, "exact", *(w for i, w in kept if i > at))


def _named(items: Sequence[Listed]) -> str:
    names = ", ".join(f"{s.name or '(no name)'} (ID {s.id})" for s in items[:SHOWN])
    return names + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def list_words(found: Targets) -> list[str]:
    """The listing that resolves the targets: every resource of that kind in the zone."""
    return resources.list_words(found.resource, ())


def _matches(item: Listed, value: str, exact: bool) -> bool:
    """usacloud's match of one target: the ID or a tag exactly, the name by substring (or exactly)."""
    if item.id == value or value in item.tags:
        return True
    return item.name == value if exact else value in item.name


def _exact(inv: commands.Invocation, env: Mapping[str, str]) -> bool:
    """usacloud's match mode: the last ``--argument-match-mode`` given, else the first variable of
    :data:`MATCH_MODE_ENV` set (non-empty), else partial (where an empty target matches every name)."""
    given = [u.value for u in inv.flag_uses(MATCH_MODE_FLAG) if u.value is not None]
    mode = given[-1] if given else next((env[n] for n in MATCH_MODE_ENV if env.get(n)), "partial")
    return mode == "exact"


def _positional_indexes(words: tuple[str, ...], inv: commands.Invocation) -> list[int]:
    start = inv.subcommand_index if inv.subcommand_index is not None else inv.resource_index
    taken = {u.index for u in inv.flags} | {u.value_index for u in inv.flags if u.value_index is not None}
    out: list[int] = []
    dashes = False
    for i in range((start or 0) + 1, len(words)):
        if words[i] == "--" and not dashes:
            dashes = True
        elif dashes or i not in taken:
            out.append(i)
    return out


def refusal(message: str) -> Refusal:
    """The policy's refusal of a command whose targets are not (or cannot be shown to be) the run's own."""
    return Refusal("ownership", message, (ANY_OPTION,))
