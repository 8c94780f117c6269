"""The sandbox policy: rewrite every zone to tk1v, refuse what the sandbox cannot contain.

Applied to a command's words before anything runs; the rewritten words are what is shown,
recorded and executed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import commands
from .commands import SANDBOX_ZONE

DANGEROUS_OPTION = "--usacloud-allow-dangerous"
GLOBAL_WRITES_OPTION = "--usacloud-allow-global-writes"

_ZONE_FLAGS = ("--zone", "--zones")
# A zone inside a full API URL given to `usacloud rest`: .../cloud/zone/is1a/api/...
_URL_ZONE = re.compile(r"(/zone/)([a-z0-9]+)(/)")


@dataclass(frozen=True)
class Refusal:
    rule: str  # "dangerous" | "global-write" | "global-write+dangerous" | "self-update" | "zone-escape"
    message: str
    options: tuple[str, ...]  # what lifts it (all of them are needed)

    def describe(self) -> str:
        if not self.options:
            return f"refused by the sandbox policy ({self.rule}): {self.message}; no option allows it"
        lift = " and ".join(self.options)
        return f"refused by the sandbox policy ({self.rule}): {self.message}; {lift} (ini too) allows it"


@dataclass(frozen=True)
class Planned:
    """A command after the policy: what would run, and whether it may."""

    words: tuple[str, ...]
    zone_rewritten: bool
    refusal: Refusal | None
    invocation: commands.Invocation


@dataclass(frozen=True)
class Policy:
    allow_dangerous: bool = False
    allow_global_writes: bool = False

    def apply(self, words: Sequence[str]) -> Planned:
        rewritten, changed = rewrite_zones(words)
        invocation = commands.resolve(rewritten)
        return Planned(rewritten, changed, self._refusal(invocation), invocation)

    def _refusal(self, inv: commands.Invocation) -> Refusal | None:
        if inv.root == "update-self":
            if self.allow_dangerous:
                return None
            return Refusal(
                "self-update",
                "`usacloud update-self` replaces the usacloud binary on this machine",
                (DANGEROUS_OPTION,),
            )
        res, sub = inv.resource, inv.subcommand
        if res is None or sub is None:
            return None  # unknown commands are the offline check's business (it fails them)
        escape = _path_escape(inv)
        if escape is not None:
            return Refusal("zone-escape", f"the rest URL {escape!r} could leave the sandbox zone's path", ())
        needed = []
        reasons = []
        if res.is_global and not _global_read(res, sub, inv) and not self.allow_global_writes:
            needed.append(GLOBAL_WRITES_OPTION)
            reasons.append(
                f"`{res.name} {sub.name}` changes a global resource, which the sandbox zone does not isolate"
            )
        if sub.destructive and not self.allow_dangerous:
            needed.append(DANGEROUS_OPTION)
            what = "a destructive" if sub.kind == "delete" else "a power"
            reasons.append(f"`{res.name} {sub.name}` is {what} subcommand")
        if not needed:
            return None
        rule = "global-write" if GLOBAL_WRITES_OPTION in needed else "dangerous"
        if len(needed) == 2:
            rule = "global-write+dangerous"
        return Refusal(rule, "; ".join(reasons), tuple(needed))


def _global_read(res: commands.Resource, sub: commands.Subcommand, inv: commands.Invocation) -> bool:
    if sub.kind == "request":  # `usacloud rest`: only GET reads; with -X given twice pflag keeps the last
        methods = [(use.value or "").lower() for use in inv.flag_uses("--method")]
        return all(method == "get" for method in methods)
    return sub.read_only


def _path_escape(inv: commands.Invocation) -> str | None:
    """A `rest` URL that could climb out of /zone/tk1v/ (`..`, or dots and slashes percent-encoded)."""
    if inv.subcommand is None or inv.subcommand.kind != "request":
        return None
    for word in inv.positionals:
        lowered = word.lower()
        if ".." in word or "%2e" in lowered or "%2f" in lowered or "%5c" in lowered or "\\" in word:
            return word
    return None


def rewrite_zones(words: Sequence[str]) -> tuple[tuple[str, ...], bool]:
    """Every `--zone X`, `--zone=X`, v0 `--zone = X` (and `--zones`) becomes tk1v; so do zones in rest URLs."""
    out: list[str] = []
    changed = False
    i = 0
    while i < len(words):
        word = words[i]
        name, eq, value = word.partition("=")
        if name in _ZONE_FLAGS and eq:
            out.append(f"{name}={SANDBOX_ZONE}")
            changed |= value != SANDBOX_ZONE
            i += 1
            continue
        if word in _ZONE_FLAGS and i + 1 < len(words):
            if words[i + 1] == "=" and i + 2 < len(words):  # v0: --zone = all
                out.append(f"{word}={SANDBOX_ZONE}")
                changed = True
                i += 3
                continue
            out += [word, SANDBOX_ZONE]
            changed |= words[i + 1] != SANDBOX_ZONE
            i += 2
            continue
        if word.startswith("https://") and "/zone/" in word:
            new = _URL_ZONE.sub(lambda m: m.group(1) + SANDBOX_ZONE + m.group(3), word)
            changed |= new != word
            word = new
        out.append(word)
        i += 1
    return tuple(out), changed


def sandbox_env(base: Mapping[str, str], fake_store: Path | None = None) -> dict[str, str]:
    """The child's environment: pytest's, with the zone pinned to tk1v (and fake mode when asked)."""
    env = dict(base)
    for prefix in ("SAKURACLOUD_", "SAKURA_"):
        env[prefix + "ZONE"] = SANDBOX_ZONE
        env[prefix + "ZONES"] = SANDBOX_ZONE
        if fake_store is not None:
            env[prefix + "FAKE_MODE"] = "1"
            env[prefix + "FAKE_STORE_PATH"] = str(fake_store)
    env["USACLOUD_NO_VERSION_CHECK"] = "1"
    return env
