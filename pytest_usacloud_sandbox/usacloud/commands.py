"""Typed API over the usacloud command tree (generated data in ``_command_data``).

``resolve(argv)`` finds the resource, subcommand, flags and positional arguments of
one usacloud command line the way cobra/pflag would, without running anything.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from . import _command_data as _data

USACLOUD_VERSION: str = _data.USACLOUD_VERSION

#: The sandbox zone: resources there do not really run and nothing is billed. Every command runs there.
SANDBOX_ZONE = "tk1v"
#: Every zone usacloud knows (is1c is not in `zone list`, but usacloud accepts it).
ZONES = ("tk1a", "tk1b", "is1a", "is1b", "is1c", "tk1v")

READ_ONLY_KINDS = frozenset({"read", "wait", "local-read"})
DESTRUCTIVE_KINDS = frozenset({"delete", "power"})
#: Subcommands that cut off something in use (disconnect a disk or a switch, disable IPv6,
#: deactivate a SIM): dangerous like the destructive ones.
DISRUPTIVE_KINDS = frozenset({"disruptive"})
#: Kinds that change what they act on: with targets (a selector), the run checks those are its own.
CHANGING_KINDS = frozenset({"create", "update", "op", "delete", "power", "disruptive"})
#: Plain cobra commands under the root that are not resources.
ROOT_COMMANDS: tuple[str, ...] = tuple(c["name"] for c in _data.ROOT_COMMANDS)


@dataclass(frozen=True)
class Flag:
    name: str  # canonical long name, e.g. "--zone"
    aliases: tuple[str, ...] = ()  # short form first ("-y"), then long aliases ("--out")
    takes_value: bool = True
    required: bool = False  # usacloud validates it as required and the code gives it no default
    value: str = "string"  # "bool" | "int" | "string" | "strings" (comma-separated) | "id"
    field: str = ""  # the parameter field, a key path in --parameters JSON ("Disk.SizeGB")
    options: tuple[str, ...] | None = None  # the closed set of values usacloud accepts
    validate: str | None = None  # the go-playground/validator tag of the field ("omitempty,min=1,max=10")
    go_type: str | None = None  # the field's Go type ("int", "*int", "[]string", "types.ID", ...)
    #: how usacloud reads or writes its value as a local file ("template", "query", "content",
    #: "upload", "download", "open"; see :mod:`.filereads`), or None
    file: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def short(self) -> str | None:
        return next((a for a in self.aliases if not a.startswith("--")), None)


def _lookup(flags: Iterable[Flag], word: str) -> Flag | None:
    name = word.partition("=")[0] if word.startswith("--") else word
    return next((f for f in flags if name in f.names), None)


@dataclass(frozen=True)
class Subcommand:
    name: str
    aliases: tuple[str, ...]
    confirm: bool
    kind: str
    selector: str  # "none" | "single" | "multi" | "other"
    has_zone: bool  # the standard, validated --zone (rest request / config edit have their own)
    has_output: bool
    has_input: bool
    flags: tuple[Flag, ...]  # every flag of the subcommand, not the global flags
    is_default: bool = False
    custom_validate: bool = False  # usacloud also runs the subcommand's own Validate method
    #: the real service it reaches even in fake mode ("webaccel", "iam", "rest", "ftp"), None when faked or local
    unfaked: str | None = None
    defaults: tuple[str, ...] = ()  # parameter fields (or structs holding them) usacloud sets in code

    def defaulted(self, field: str) -> bool:
        """Whether usacloud gives ``field`` ("HealthCheck.DelayLoop") a value in code."""
        parts = field.split(".")
        return any(".".join(parts[:i]) in self.defaults for i in range(1, len(parts) + 1))

    @property
    def read_only(self) -> bool:
        """Only reads (API or local files). ``connect`` starts an external client: not read-only."""
        return self.kind in READ_ONLY_KINDS

    @property
    def destructive(self) -> bool:
        return self.kind in DESTRUCTIVE_KINDS

    @property
    def dangerous(self) -> bool:
        """Dangerous as a whole (the policy's rule): destructive, power or disruptive."""
        return self.kind in DESTRUCTIVE_KINDS or self.kind in DISRUPTIVE_KINDS

    @property
    def changes_targets(self) -> bool:
        """It changes the resources its arguments select (by ID, tag or name): updates, edits, power,
        deletes, ``disk connect-to-server``, ``internet add-subnet``...; not reads, not plain creates."""
        return self.kind in CHANGING_KINDS and self.selector in ("single", "multi")

    def find_flag(self, word: str) -> Flag | None:
        """The flag named by ``word`` ("--zone", "-y", an alias such as "--out", or "--x=v")."""
        return _lookup(self.flags, word)


@dataclass(frozen=True)
class Resource:
    name: str
    aliases: tuple[str, ...]
    scope: str  # "zoned" | "global" | "zoneless"
    location: str  # "iaas" | "root"
    subcommands: tuple[Subcommand, ...]
    platform: str = "iaas"  # the API client usacloud uses for it: "iaas", "webaccel", "" (config, rest)
    default_subcommand: str | None = None
    deprecated: str | None = None  # the deprecation warning usacloud prints, if any

    @property
    def is_global(self) -> bool:
        return self.scope == "global"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def find_subcommand(self, word: str) -> Subcommand | None:
        return next((s for s in self.subcommands if word == s.name or word in s.aliases), None)


def _flag(row: tuple, file: str | None = None) -> Flag:
    name, short, aliases, value, required, field, options, validate, go_type = row
    aliases = ((short,) if short else ()) + tuple(aliases)
    return Flag(name, aliases, value != "bool", required, value, field, options, validate, go_type, file)


def _subcommand(d: dict, zoned: bool) -> Subcommand:
    files = dict(d["files"])
    flags = tuple(_flag(r, files.get(r[0])) for r in d["flags"])
    names = {f.name for f in flags}
    return Subcommand(
        name=d["name"],
        aliases=tuple(d["aliases"]),
        confirm=d["confirm"],
        kind=d["kind"],
        selector=d["selector"],
        has_zone=zoned and "--zone" in names,
        has_output="--output-type" in names,
        has_input="--parameters" in names,
        flags=flags,
        is_default=d["is_default"],
        custom_validate=d["custom_validate"],
        defaults=d["defaults"],
        unfaked=d["unfaked"],
    )


def _resource(d: dict) -> Resource:
    return Resource(
        name=d["name"],
        aliases=tuple(d["aliases"]),
        scope=d["scope"],
        location=d["location"],
        subcommands=tuple(_subcommand(s, d["scope"] != "global") for s in d["subcommands"]),
        platform=d["platform"],
        default_subcommand=d["default"],
        deprecated=d["deprecated"],
    )


# Each resource is built on first use (3,324 Flag objects at import cost every pytest process
# ~20 ms; a run's scripts use a few resources). The same word always gives the same object.
_INDEX: dict[str, int] = {w: i for i, d in enumerate(_data.RESOURCES) for w in (d["name"], *d["aliases"])}


@functools.cache
def _built(index: int) -> Resource:
    return _resource(_data.RESOURCES[index])


GLOBAL_FLAGS: tuple[Flag, ...] = tuple(_flag(r) for r in _data.GLOBAL_FLAGS)


def _union(flags: Iterable[Flag]) -> dict[str, Flag]:
    """Flag word -> Flag; when a word means several flags, one that takes a value wins."""
    table: dict[str, Flag] = {}
    for flag in flags:
        for word in flag.names:
            if word not in table or (flag.takes_value and not table[word].takes_value):
                table[word] = flag
    return table


_GLOBAL_TABLE = _union(GLOBAL_FLAGS)


def find_resource(word: str) -> Resource | None:
    """The resource named ``word`` (name or alias, at either path)."""
    index = _INDEX.get(word)
    return None if index is None else _built(index)


def flag_names() -> Iterator[tuple[tuple[str, ...], bool]]:
    """(names, takes a value) of every flag in the tree, global ones first, straight from the data
    (without building every resource: for a scan of the whole tree, such as the masker's)."""
    for row in _data.GLOBAL_FLAGS:
        yield _names(row), row[3] != "bool"
    for res in _data.RESOURCES:
        for sub in res["subcommands"]:
            for row in sub["flags"]:
                yield _names(row), row[3] != "bool"


def _names(row: tuple) -> tuple[str, ...]:
    name, short, aliases = row[0], row[1], row[2]
    return (name, short, *aliases) if short else (name, *aliases)


def all_resources() -> tuple[Resource, ...]:
    return tuple(_built(i) for i in range(len(_data.RESOURCES)))


@dataclass(frozen=True)
class FlagUse:
    """One flag as written on the command line."""

    index: int  # argv index of the word holding the flag
    word: str  # the whole word, e.g. "--out=tsv" or "-qy"
    name: str  # the flag name as written, e.g. "--out" or "-y"
    flag: Flag | None  # what it means for the resolved command (subcommand, then global); None if unknown
    value: str | None = None  # from "=v", an attached short value ("-ojson") or the next word
    value_index: int | None = None  # argv index of the value when it is a separate word


@dataclass(frozen=True)
class Invocation:
    binary_index: int = 0
    root: str | None = None  # "iaas" or a plain root command; None for `usacloud <resource>`
    resource: Resource | None = None
    resource_index: int | None = None
    resource_word: str | None = None
    subcommand: Subcommand | None = None
    subcommand_index: int | None = None
    subcommand_word: str | None = None
    used_default: bool = False
    positionals: tuple[str, ...] = ()
    flags: tuple[FlagUse, ...] = ()  # every flag in argv order (global ones included)

    def flag_uses(self, canonical: str) -> tuple[FlagUse, ...]:
        """Uses of the flag whose canonical name is ``canonical`` (aliases included)."""
        return tuple(u for u in self.flags if u.flag is not None and u.flag.name == canonical)


_Raw = tuple[int, str, str, "str | None", "int | None"]


def _looks_like_value(argv: Sequence[str], k: int) -> bool:
    return k < len(argv) and not (argv[k].startswith("-") and len(argv[k]) > 1)


def _scan_flag(argv: Sequence[str], i: int, lookup: Callable[[str], Flag | None]) -> tuple[list[_Raw], int]:
    """Parse the flag word ``argv[i]`` like pflag; returns the uses and the next index.

    An unknown flag takes the next word as its value when that word is not a flag
    (cobra does the same while it looks for the command).
    """
    word = argv[i]
    if word.startswith("--"):
        name, eq, value = word.partition("=")
        if eq:
            return [(i, word, name, value, None)], i + 1
        flag = lookup(name)
        takes = flag.takes_value if flag else _looks_like_value(argv, i + 1)
        if takes and i + 1 < len(argv):
            return [(i, word, name, argv[i + 1], i + 1)], i + 2
        return [(i, word, name, None, None)], i + 1
    uses: list[_Raw] = []
    body = word[1:]
    for j, char in enumerate(body):
        name, rest = "-" + char, body[j + 1 :]
        if rest.startswith("="):
            uses.append((i, word, name, rest[1:], None))
            break
        flag = lookup(name)
        if flag is None and not rest and j == 0 and _looks_like_value(argv, i + 1):
            uses.append((i, word, name, argv[i + 1], i + 1))
            return uses, i + 2
        if flag is None:  # pflag fails here; keep reading the bundle for better diagnostics
            uses.append((i, word, name, None, None))
            continue
        if flag.takes_value:
            if rest:
                uses.append((i, word, name, rest, None))
            elif i + 1 < len(argv):
                uses.append((i, word, name, argv[i + 1], i + 1))
                return uses, i + 2
            else:
                uses.append((i, word, name, None, None))
            break
        uses.append((i, word, name, None, None))
    return uses, i + 1


def _arity_lookup(resource: Resource | None, sub: Subcommand | None) -> Callable[[str], Flag | None]:
    if sub is not None:
        return lambda n: sub.find_flag(n) or _GLOBAL_TABLE.get(n)
    # Before the subcommand is found, cobra knows only the root's persistent flags: any other flag
    # takes the next word as its value (`usacloud -q coupon note create` runs `note create`).
    return _GLOBAL_TABLE.get


def resolve(words: Sequence[str]) -> Invocation:
    """Resolve a full argv (``words[0]`` is the usacloud binary). Never raises."""
    try:
        argv = tuple("" if w is None else str(w) for w in (words or ()))
    except TypeError:
        argv = ()
    root: str | None = None
    resource: Resource | None = None
    sub: Subcommand | None = None
    r_index = r_word = s_index = s_word = None
    used_default = False
    positionals: list[str] = []
    raw: list[_Raw] = []
    only_positionals = False
    i = 1
    while i < len(argv):
        word = argv[i]
        if not only_positionals and word == "--":
            only_positionals = True
        elif not only_positionals and word.startswith("-") and len(word) > 1:
            uses, i = _scan_flag(argv, i, _arity_lookup(resource, sub))
            raw.extend(uses)
            continue
        elif (
            only_positionals
            or sub is not None
            or s_word is not None
            or (r_word is not None and resource is None)
            or root not in (None, "iaas")
        ):
            positionals.append(word)
        elif resource is not None:
            found = resource.find_subcommand(word)
            if found is not None:
                sub, s_index, s_word = found, i, word
            elif resource.default_subcommand:
                sub, used_default = resource.find_subcommand(resource.default_subcommand), True
                positionals.append(word)
            else:
                s_index, s_word = i, word
        elif root is None and word in ROOT_COMMANDS:
            root = word
        else:
            found = find_resource(word)
            if found is not None and (root != "iaas" or found.location == "iaas"):
                resource = found
            r_index, r_word = i, word
        i += 1
    if resource is not None and sub is None and s_word is None and resource.default_subcommand:
        sub, used_default = resource.find_subcommand(resource.default_subcommand), True
    final = _arity_lookup(None, sub) if sub is not None else _GLOBAL_TABLE.get
    flags = tuple(FlagUse(ix, w, n, final(n), v, vi) for ix, w, n, v, vi in raw)
    return Invocation(
        binary_index=0,
        root=root,
        resource=resource,
        resource_index=r_index,
        resource_word=r_word,
        subcommand=sub,
        subcommand_index=s_index,
        subcommand_word=s_word,
        used_default=used_default,
        positionals=tuple(positionals),
        flags=flags,
    )
