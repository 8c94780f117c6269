"""The sandbox policy: rewrite every zone to tk1v, refuse what the sandbox cannot contain.

Applied to a command's words before anything runs; the rewritten words are what is shown,
recorded and executed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from . import commands, environment, filereads, profiles, rest, sideeffects
from .commands import SANDBOX_ZONE
from .localfiles import Place
from .params import read_parameters
from .values import GO_TRUE

DANGEROUS_OPTION = "--usacloud-allow-dangerous"
GLOBAL_WRITES_OPTION = "--usacloud-allow-global-writes"
PROFILES_OPTION = "--usacloud-allow-profiles"
#: The resource whose subcommands read and write usacloud's profiles on this machine, not the API.
PROFILES_RESOURCE = "config"

_ZONE_FLAGS = ("--zone", "--zones")
# The zone of a full API URL given to `usacloud rest`: https://host/cloud/zone/is1a/api/...
_URL_ZONE = re.compile(r"^(https://[^/?#]*/cloud/zone/)([a-z0-9]+)(/)")
#: Root flags that choose where usacloud talks or which file it keeps state in, like the variables
#: environment.py refuses: a profile may name its own API root URL and keys.
ROUTE_FLAGS = ("--profile", "--fake-store")

_DANGEROUS_KIND = {
    "delete": "a destructive",
    "power": "a power",
    "disruptive": "a disruptive (it disconnects or disables something in use)",
}
#: Why a subcommand the command table marks ``unfaked`` reaches a real API in fake mode.
_UNFAKED = {
    "webaccel": "its fake driver covers the IaaS API only, and this calls the web accelerator API for real "
    "(with whatever key it has)",
    "iam": "it looks the account up in the real IAM API first (saclient's client), with whatever key it has",
    "rest": "it calls the real API (with whatever key it has) even in fake mode",
    "ftp": "it moves the file over FTP, and the fake driver fakes the API only: it connects to the FTP host the "
    "fake API names (sac-tk1v-ftp.example.jp, port 21), wherever that resolves",
}
_POWER_WORDS = frozenset({"boot", "shutdown", "reboot", "reset", "power"})
_FALSE = frozenset({"0", "f", "false"})


def _flag_danger(flag: commands.Flag) -> str | None:
    """Why a boolean flag makes an otherwise allowed subcommand dangerous, or None (the rule over the tree)."""
    if flag.takes_value:
        return None
    if _POWER_WORDS.intersection(flag.name[2:].split("-")):
        return "it powers a server or appliance on or off"
    if flag.name == "--force":
        return "it forces the action past its safety check"
    return None


def _dangerous_flags(sub: commands.Subcommand) -> dict[str, tuple[commands.Flag, str]]:
    """{flag name: (flag, why)} of the subcommand's dangerous flags (none if it is dangerous as a whole).
    Asked of the subcommands a run uses only: the whole tree at import cost every process ~30 ms."""
    if sub.dangerous:
        return {}
    return {flag.name: (flag, why) for flag in sub.flags if (why := _flag_danger(flag)) is not None}


def __getattr__(name: str):
    """``DANGEROUS_FLAGS``: (resource, subcommand, flag, why) for every dangerous flag of a subcommand
    that is not dangerous as a whole: boolean flags naming a power action (boot, shutdown, reboot,
    reset, power) and `--force`. Made when asked (the README's list and its tests)."""
    if name == "DANGEROUS_FLAGS":
        return tuple(
            (res.name, sub.name, flag, why)
            for res in commands.all_resources()
            for sub in res.subcommands
            for flag, why in _dangerous_flags(sub).values()
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Refusal:
    rule: str  # dangerous | global-write | global-write+dangerous | self-update | environment | route
    # | zone-escape | rest-url | rest-data | fake-mode | empty-target | trace | reads-file | writes-file
    # | profile-write | run-tag
    message: str
    options: tuple[str, ...]  # what lifts it (all of them are needed)

    def describe(self) -> str:
        if not self.options:
            return f"refused by the sandbox policy ({self.rule}): {self.message}; no option allows it"
        lift = " and ".join(self.options)
        return f"refused by the sandbox policy ({self.rule}): {self.message}; {lift} (ini too) allows it"


@dataclass(frozen=True)
class Planned:
    """A command after the policy: what would run, with which settings, and whether it may."""

    words: tuple[str, ...]
    zone_rewritten: bool
    refusal: Refusal | None
    invocation: commands.Invocation
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # allowed VAR=value prefixes
    danger: str | None = None  # why it is dangerous (allowed by --usacloud-allow-dangerous), or None


@dataclass(frozen=True)
class Policy:
    allow_dangerous: bool = False
    allow_global_writes: bool = False
    fake: bool = False  # --usacloud-fake: what usacloud does not fake is refused
    cwd: Path | None = None  # where usacloud runs (`rest -d FILE`, `--parameters FILE`, `--format FILE`)
    home: str | None = None  # usacloud's $HOME (`--parameters ~/FILE`); None: this process's
    #: the script's directory: the files usacloud reads or writes must lie under it (None: ``cwd``)
    root: Path | None = None
    private: tuple[Path, ...] = ()  # the run's own directories: usacloud never reads or writes there
    output_to_script: bool = False  # shell mode: usacloud writes to the script's own files (no --trace)
    #: --usacloud-allow-profiles: usacloud reads (and `config` writes) this machine's profiles
    allow_profiles: bool = False

    def apply(self, words: Sequence[str], assignments: Iterable[tuple[str, str]] = ()) -> Planned:
        """The policy for one command; ``assignments``: its ``VAR=value`` prefixes (commands mode)."""
        rewritten, changed = rewrite_zones(words)
        invocation = commands.resolve(rewritten)
        applied, env_refusal = environment.from_prefixes(assignments)
        traced = _trace_word(invocation) if self.output_to_script else None
        full = _with_default_flags(rewritten, invocation)
        if env_refusal is not None:
            refusal = Refusal("environment", env_refusal.describe(), ())
        elif traced is not None:
            refusal = Refusal(
                "trace",
                f"`{traced}` prints the API key's HTTP credentials on usacloud's stderr, which in shell mode "
                "is the script's own (a file, a pipe, a log); commands mode captures and masks it",
                (),
            )
        else:
            refusal = self._refusal(full)
        danger = None
        if full.resource and full.subcommand:
            danger = _danger(full.resource, full.subcommand, full, self.cwd or Path.cwd(), self.home)
        return Planned(rewritten, changed, refusal, invocation, MappingProxyType(applied), danger)

    def _refusal(self, inv: commands.Invocation) -> Refusal | None:
        res, sub = inv.resource, inv.subcommand
        # in fake mode the run drops `--profile` with its value: dummy credentials only
        routes = ("--fake-store",) if self.fake else ROUTE_FLAGS
        route = next((u for u in inv.flags if u.flag is not None and u.flag.name in routes), None)
        if route is not None:
            return Refusal(
                "route", f"`{route.name}` chooses where usacloud talks (or with which key, or which file it writes)", ()
            )
        faked = self._not_faked(inv)
        if faked is not None:
            return Refusal("fake-mode", faked, ())
        if rest.is_request(inv):
            found = rest.problems(inv, self.cwd or Path.cwd())
            if found:
                return Refusal(found[0].rule, "; ".join(p.message for p in found), ())
        files = filereads.problem(inv, self.place())
        if files is not None:  # usacloud's own /proc/self/environ holds the API key
            return Refusal(files[0], files[1], ())
        if inv.root == "update-self":
            if self.allow_dangerous:
                return None
            return Refusal(
                "self-update",
                "`usacloud update-self` replaces the usacloud binary on this machine",
                (DANGEROUS_OPTION,),
            )
        if res is None or sub is None:
            return None  # unknown commands are the offline check's business (it fails them)
        empty = _empty_target(res, sub, inv)
        if empty is not None:
            return Refusal("empty-target", empty, ())
        needed = []
        reasons = []
        profile_write = res.name == PROFILES_RESOURCE and not sub.read_only
        if profile_write and (self.fake or not self.allow_profiles):
            why = (
                "fake mode points usacloud at no profiles (a place nothing can write), whatever the options"
                if self.fake
                else "the sandbox points usacloud at no profiles (a place nothing can write); with "
                f"{PROFILES_OPTION} usacloud reads this machine's profiles, and this would change them"
            )
            options = () if self.fake else (PROFILES_OPTION,)
            return Refusal("profile-write", f"`{res.name} {sub.name}` writes usacloud's profiles: {why}", options)
        cwd = self.cwd or Path.cwd()
        if res.is_global and not profile_write and not _global_read(sub, inv) and not self.allow_global_writes:
            needed.append(GLOBAL_WRITES_OPTION)
            reasons.append(
                f"`{res.name} {sub.name}` changes a global resource, which the sandbox zone does not isolate"
            )
        elif not self.allow_global_writes and (
            writes := sideeffects.found(sideeffects.GLOBAL_WRITES, res, sub, inv, cwd, self.home)
        ):
            needed.append(GLOBAL_WRITES_OPTION)
            reasons.append(writes)
        danger = _danger(res, sub, inv, cwd, self.home)
        if danger and not self.allow_dangerous:
            needed.append(DANGEROUS_OPTION)
            reasons.append(danger)
        if not needed:
            return None
        rule = "global-write" if GLOBAL_WRITES_OPTION in needed else "dangerous"
        if len(needed) == 2:
            rule = "global-write+dangerous"
        return Refusal(rule, "; ".join(reasons), tuple(needed))

    def place(self) -> Place:
        """Where usacloud runs and which files it may touch (:mod:`.localfiles`)."""
        cwd = self.cwd or Path.cwd()
        return Place(cwd, self.root or cwd, self.home, self.private)

    def _not_faked(self, inv: commands.Invocation) -> str | None:
        """Under --usacloud-fake: why this command would touch something real, or None."""
        if not self.fake:
            return None
        off = next((u for u in inv.flag_uses("--fake") if u.value is not None and u.value not in GO_TRUE), None)
        if off is not None:  # usacloud reads its flags after the environment: this turns the driver off
            return f"`{off.word}` turns usacloud's fake driver off: it would call the real API"
        if rest.is_request(inv):
            return "usacloud does not fake `rest`: it calls the real API (with whatever key it has) even in fake mode"
        if inv.root == "update-self":
            return "usacloud does not fake `update-self`: it downloads a new binary and replaces this one"
        if inv.subcommand is not None and inv.subcommand.kind == "connect":
            return f"usacloud does not fake `{inv.subcommand.name}`: it starts a real local client"
        real = inv.subcommand.unfaked if inv.subcommand is not None and inv.resource is not None else None
        if real is not None:
            return f"usacloud does not fake `{inv.resource.name} {inv.subcommand.name}`: {_UNFAKED[real]}"
        moved = filereads.ftp_transfer(inv, self.place())
        if moved is not None:
            what = f"{inv.resource.name} {inv.subcommand.name}" if inv.resource else inv.subcommand.name
            return f"usacloud does not fake `{what}` with {moved}: {_UNFAKED['ftp']}"
        return None


def _empty_target(res: commands.Resource, sub: commands.Subcommand, inv: commands.Invocation) -> str | None:
    """Why a target argument (ID|NAME|TAG) is refused: usacloud matches an empty one against every
    resource of the zone (`switch delete -y ""` deletes every switch; in a script, an ID variable
    that came back empty does it). Blank counts as empty."""
    if sub.selector not in ("single", "multi"):
        return None
    for position, word in enumerate(inv.positionals, 1):
        if not word.strip():
            shown = "empty" if not word else f"blank ({word!r})"
            return (
                f"target argument {position} of `{res.name} {sub.name}` is {shown}: usacloud matches an empty "
                f"ID|NAME|TAG against every {res.name} in the zone (in a script: a variable that should hold "
                "the ID is empty)"
            )
    return None


def _trace_word(inv: commands.Invocation) -> str | None:
    """The word that turns usacloud's HTTP trace on (`--trace`, `--trace=true`; `-trace` too, as
    Go's flag package would read it), or None. `--trace=false` does not. Read from the flag parse,
    as usacloud reads it: after `--names --`, `--trace` is a flag (pflag gives `--names` the `--`)."""
    for use in inv.flags:
        name, eq, value = use.word.partition("=")
        if use.flag is not None and use.flag.name == "--trace":
            value = use.value
        elif name != "-trace":
            continue
        elif not eq:
            value = None
        if value is None or value.strip().lower() not in _FALSE:
            return use.word
    return None


def _with_default_flags(words: tuple[str, ...], inv: commands.Invocation) -> commands.Invocation:
    """``inv`` with a default subcommand's flags known from the resource word on (cobra gives the
    resource command its default subcommand's flags: in `rest -dFILE /x`, `-d` is `--data`)."""
    if inv.used_default and inv.subcommand is not None and inv.resource_index is not None:
        at = inv.resource_index + 1
        explicit = commands.resolve((*words[:at], inv.subcommand.name, *words[at:]))
        if explicit.subcommand == inv.subcommand:
            return explicit
    return inv


def _global_read(sub: commands.Subcommand, inv: commands.Invocation) -> bool:
    if sub.kind == "request":  # `usacloud rest`: only GET reads; with -X given twice pflag keeps the last
        methods = [(use.value or "").lower() for use in inv.flag_uses("--method")]
        return all(method == "get" for method in methods)
    return sub.read_only


def _danger(
    res: commands.Resource, sub: commands.Subcommand, inv: commands.Invocation, cwd: Path, home: str | None
) -> str | None:
    """Why the command is dangerous (needs --usacloud-allow-dangerous), or None."""
    if sub.dangerous:
        what = _DANGEROUS_KIND[sub.kind]
        return f"`{res.name} {sub.name}` is {what} subcommand"
    if sub.kind == "connect":
        return f"`{res.name} {sub.name}` starts a local program (an ssh, VNC or RDP client) for an interactive session"
    if sub.kind == "request":
        return rest.dangerous(inv)
    for use in inv.flags:
        found = _dangerous_flags(sub).get(use.flag.name) if use.flag is not None else None
        if found is not None and (use.value is None or use.value.strip().lower() not in _FALSE):
            return f"`{res.name} {sub.name} {use.name}` is a dangerous flag: {found[1]}"
    for use in inv.flag_uses("--parameters"):
        danger = _parameter_danger(sub, use.value, cwd, home)
        if danger is not None:
            return f"`{res.name} {sub.name} --parameters` {danger}"
    return sideeffects.found(sideeffects.POWER_CYCLES, res, sub, inv, cwd, home)


def _parameter_danger(sub: commands.Subcommand, value: str | None, cwd: Path, home: str | None) -> str | None:
    """How ``--parameters`` switches a dangerous flag on (inline JSON, or the file usacloud would read
    in ``cwd``), or None. Parameters that cannot be read here are dangerous when the subcommand has
    such a flag: what they set cannot be told."""
    dangers = _dangerous_flags(sub).values()
    if not dangers or not value:
        return None
    params = read_parameters(value, cwd, home)
    if params.source == "unread":
        return f"cannot be checked for dangerous flags ({params.note})"
    for flag, why in dangers:
        found, setting = params.lookup(flag.field)
        if found and setting not in (False, None, 0, "", "false"):
            return f"sets {flag.field}, the dangerous flag {flag.name}: {why}"
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
        if word.startswith("https://"):
            new = _URL_ZONE.sub(lambda m: m.group(1) + SANDBOX_ZONE + m.group(3), word)
            changed |= new != word
            word = new
        out.append(word)
        i += 1
    return tuple(out), changed


def sandbox_env(
    base: Mapping[str, str], fake_store: Path | None = None, profile_dir: str | Path | None = None
) -> dict[str, str]:
    """The child's environment: pytest's, with the zone pinned to tk1v (and fake mode when asked).

    ``profile_dir``: where usacloud is pointed instead of the machine's profiles (the run's is
    :data:`.profiles.NO_PROFILES`, which nothing can write), under all three names, with no profile
    name (any the run has is removed): usacloud then reads no profile, so that none can choose the
    zone, the key, the API root, the token endpoint or a trace. A named profile would not do:
    usacloud 1.22.8 cannot open it there and runs every command as a no-op that exits 0. None leaves
    the profiles as the run has them (``--usacloud-allow-profiles``).
    """
    env = dict(base)
    if profile_dir is not None:
        env = profiles.without_profile_name(env)
        env.update(dict.fromkeys(profiles.PROFILE_DIR_ENV, str(profile_dir)))
    for prefix in ("SAKURACLOUD_", "SAKURA_"):
        env[prefix + "ZONE"] = SANDBOX_ZONE
        env[prefix + "ZONES"] = SANDBOX_ZONE
        if fake_store is not None:
            env[prefix + "FAKE_MODE"] = "1"
            env[prefix + "FAKE_STORE_PATH"] = str(fake_store)
    env["USACLOUD_NO_VERSION_CHECK"] = "1"
    return env
