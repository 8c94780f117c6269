"""Offline check of one usacloud command line (dry-run, and before each real command).

Errors are commands that usacloud 1.22.8 rejects, that do nothing, or v0 forms that v1
removed. Warnings are commands that work but are risky or deprecated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .commands import (
    GLOBAL_FLAGS,
    ROOT_COMMANDS,
    SANDBOX_ZONE,
    ZONES,
    FlagUse,
    Invocation,
    all_resources,
    find_resource,
    resolve,
)

ERROR, WARNING = "error", "warning"

#: Resources that usacloud v1 no longer has, with their replacement (None: discontinued).
V0_REMOVED = {
    "ipv4": "ipaddress",
    "product-disk": "disk-plan",
    "product-internet": "internet-plan",
    "product-server": "server-plan",
    "summary": None,
    "object-storage": None,
    "ojs": None,
}
#: v0 names that v1.22 still accepts as aliases.
DEPRECATED_ALIASES = {"iso-image": "cdrom", "startup-script": "note"}
#: (resource, flag) -> note, for flags that usacloud warns about at run time.
DEPRECATED_FLAGS = {("container-registry", "--access-level"): "deprecated since usacloud 1.22.2"}
#: (resource, subcommand) that the docs still list but the code no longer has.
REMOVED_SUBCOMMANDS = {
    ("ssh-key", "generate"): "removed in 2025-06; create the key locally and use `ssh-key create --public-key`"
}
DEFAULT_ZONES = ZONES
OUTPUT_TYPES = ("table", "json", "yaml")
ENUM_VALUES = {  # canonical flag name -> accepted values (compared in lower case)
    "--query-driver": ("jmespath", "jq"),
    "--argument-match-mode": ("partial", "exact"),
    "--method": ("get", "post", "patch", "put", "delete"),
}
COMPLETION_SHELLS = ("bash", "zsh", "fish", "powershell")
TRUE_WORDS = ("1", "t", "true")
INFO_FLAGS = ("--help", "--generate-skeleton", "--example")  # print something and exit


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning"
    code: str
    word: str  # the word at fault as written ("" if none)
    message: str
    fix: str | None = None


def levenshtein(a: str, b: str) -> int:
    """Edit distance where swapping two neighbours counts as one edit ("lsit" -> "list")."""
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        before, previous = previous, current
    return previous[-1]


def suggest(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Closest candidates by edit distance ("did you mean"), best first."""
    threshold = max(1, len(word) // 3)
    scored = sorted((levenshtein(word, c), c) for c in set(candidates) if c != word)
    return [c for d, c in scored if d <= threshold][:limit]


def _argv(words: Sequence[str]) -> tuple[str, ...]:
    try:
        return tuple("" if w is None else str(w) for w in (words or ()))
    except TypeError:
        return ()


def _first(options: list[str]) -> str | None:
    return options[0] if options else None


def _did_you_mean(options: list[str]) -> str:
    return f"; did you mean {', '.join(options)}?" if options else ""


class _Checker:
    def __init__(self, words: Sequence[str]) -> None:
        self.inv: Invocation = resolve(words)
        self.words = _argv(words)
        self.findings: list[Finding] = []

    def error(self, code: str, word: str, message: str, fix: str | None = None) -> None:
        self.findings.append(Finding(ERROR, code, word, message, fix))

    def warn(self, code: str, word: str, message: str, fix: str | None = None) -> None:
        self.findings.append(Finding(WARNING, code, word, message, fix))

    def used(self, canonical: str) -> tuple[FlagUse, ...]:
        return self.inv.flag_uses(canonical)

    # -- the command path ---------------------------------------------------------------
    def check_path(self) -> bool:
        """Resource and subcommand; returns True when the command is known."""
        inv = self.inv
        if inv.root in ROOT_COMMANDS and inv.root != "iaas":
            self.check_root_command()
            return True
        if inv.resource_word is None:
            return True  # bare `usacloud` or `usacloud iaas`: prints help
        word = inv.resource_word
        if inv.resource is None:
            if word in V0_REMOVED:
                new = V0_REMOVED[word]
                tail = f"use `{new}`" if new else "discontinued, no replacement"
                self.error("v0-removed", word, f"`{word}` was removed in usacloud v1: {tail}", new)
            elif inv.root == "iaas" and find_resource(word) is not None:
                self.error(
                    "unknown-resource", word, f"`{word}` is not under `iaas`; run `usacloud {word}`", f"usacloud {word}"
                )
            else:
                pool = [w for r in all_resources() if inv.root is None or r.location == "iaas" for w in r.names]
                options = suggest(word, pool + ([] if inv.root else list(ROOT_COMMANDS)))
                self.error(
                    "unknown-resource", word, f"unknown command `{word}`{_did_you_mean(options)}", _first(options)
                )
            return False
        res = inv.resource
        if word in DEPRECATED_ALIASES:
            new = DEPRECATED_ALIASES[word]
            self.warn("deprecated-alias", word, f"`{word}` is a deprecated v0 alias of `{new}`; use `{new}`", new)
        if res.deprecated:
            instead = re.search(r"use '([^']+)'", res.deprecated)
            self.warn("deprecated-command", word, res.deprecated, instead[1] if instead else None)
        if inv.subcommand is not None:
            return True
        if inv.subcommand_word is None:
            if not self.used("--help"):
                self.error("missing-subcommand", word, f"`{word}` needs a subcommand (it only prints help)")
            return False
        sword = inv.subcommand_word
        options = suggest(sword, [w for s in res.subcommands for w in (s.name, *s.aliases)])
        note = REMOVED_SUBCOMMANDS.get((res.name, sword))
        message = f"`{sword}` is not a subcommand of `{res.name}`" + (f": {note}" if note else _did_you_mean(options))
        self.error("unknown-subcommand", sword, message, _first(options))
        return False

    def check_root_command(self) -> None:
        root, args = self.inv.root, self.inv.positionals
        if root == "completion" and (len(args) != 1 or args[0] not in COMPLETION_SHELLS):
            self.error(
                "bad-argument", " ".join(args), f"`completion` takes one of {', '.join(COMPLETION_SHELLS)}", "bash"
            )
        if root == "update-self":
            if args:
                self.error("bad-argument", args[0], "`update-self` takes no arguments")
            self.warn("self-update", root, "`update-self` replaces the usacloud binary in place, without confirmation")

    # -- flags ----------------------------------------------------------------------------
    def check_flags(self, known: bool) -> None:
        inv = self.inv
        allowed = [w for f in (*GLOBAL_FLAGS, *(inv.subcommand.flags if inv.subcommand else ())) for w in f.names]
        for use in inv.flags:
            if use.name == "--selector":
                target = (use.value or "").partition("=")[2] or use.value or "<target>"
                message = f"`--selector` was removed in v1; pass the target as a positional argument: {target}"
                self.error("v0-selector", use.word, message, target)
            elif use.name in ("-o", "--output-type", "--out") and (use.value or "").lower() in ("csv", "tsv"):
                message = f"output type `{use.value}` was removed in v1; use json (or --query/--format)"
                self.error("v0-output-type", use.word, message, "json")
            elif not known:
                continue
            elif use.flag is None:
                self.unknown_flag(use, allowed)
            elif use.value == "=" and use.value_index is not None:
                k = use.value_index + 1
                nxt = self.words[k] if k < len(self.words) else "<value>"
                message = f"`{use.name} = {nxt}`: remove the spaces around `=`"
                self.error("spaced-equals", use.word, message, f"{use.name}={nxt}")
            elif use.flag.takes_value and use.value is None:
                self.error("missing-value", use.word, f"`{use.name}` needs a value")
            elif use.flag.takes_value:
                self.check_value(use)

    def unknown_flag(self, use: FlagUse, allowed: list[str]) -> None:
        res, sub = self.inv.resource, self.inv.subcommand
        if use.name == "--zone" and res is not None and res.scope != "zoned":
            what = "global" if res.is_global else "zone-less"
            message = f"`{res.name}` is {what}: it has no --zone (usacloud fails: unknown flag); remove `{use.word}`"
            self.error("zone-on-global", use.word, message, "remove --zone")
        elif use.name in ("-y", "--assumeyes") and sub is not None:
            message = f"`{sub.name}` does not ask for confirmation and has no -y/--assumeyes; remove it"
            self.error("unknown-flag", use.word, message, "remove -y")
        else:
            options = suggest(use.name, allowed) if use.name.startswith("--") else []
            self.error("unknown-flag", use.word, f"unknown flag `{use.name}`{_did_you_mean(options)}", _first(options))

    def check_value(self, use: FlagUse) -> None:
        name, value = use.flag.name, use.value or ""
        if name == "--output-type" and value not in OUTPUT_TYPES:
            fix = _first(suggest(value.lower(), OUTPUT_TYPES)) or "json"
            self.error(
                "bad-output-type", use.word, f"output type `{value}` is not one of {', '.join(OUTPUT_TYPES)}", fix
            )
        elif name == "--zone":
            self.check_zone(use, value)
        elif name in ENUM_VALUES and value.lower() not in ENUM_VALUES[name]:
            choices = ENUM_VALUES[name]
            self.error("bad-value", use.word, f"`{use.name}` must be one of {', '.join(choices)}", choices[0])
        res = self.inv.resource
        if res is not None and (res.name, name) in DEPRECATED_FLAGS:
            self.warn("deprecated-flag", use.word, f"`{use.name}` is {DEPRECATED_FLAGS[res.name, name]}")

    def check_zone(self, use: FlagUse, value: str) -> None:
        inv = self.inv
        is_rest = inv.resource is not None and inv.resource.name == "rest"
        if inv.subcommand is None or not (inv.subcommand.has_zone or is_rest):
            return  # config edit/create: a profile value
        zones = next((u for u in inv.flags if u.flag in GLOBAL_FLAGS and u.flag.name == "--zones"), None)
        permitted = tuple((zones.value or "").split(",")) if zones else DEFAULT_ZONES
        sandbox = f"--zone={SANDBOX_ZONE}"
        if value == "all" and is_rest:
            self.error("bad-zone", use.word, "`rest` rejects `--zone=all`; name one zone", sandbox)
        elif value == "all" and permitted != (SANDBOX_ZONE,):  # with --zones tk1v, `all` is the sandbox only
            self.warn(
                "zone-all", use.word, "`--zone=all` fans out over every permitted zone, production included", sandbox
            )
        elif value != "all" and value not in permitted:
            options = suggest(value, permitted)
            fix = SANDBOX_ZONE if SANDBOX_ZONE in options or not options else options[0]
            self.error("bad-zone", use.word, f"unknown zone `{value}`{_did_you_mean(options)}", fix)

    # -- confirmation, targets and hazards ------------------------------------------------
    def check_subcommand(self) -> None:
        inv, sub, res = self.inv, self.inv.subcommand, self.inv.resource
        word = inv.subcommand_word or inv.resource_word or ""
        if any(self.used(name) for name in INFO_FLAGS):
            return
        has_params = bool(self.used("--parameters"))
        if sub.confirm and not any((u.value or "true").lower() in TRUE_WORDS for u in self.used("--assumeyes")):
            message = f"`{res.name} {sub.name}` asks for confirmation and fails without a terminal; add -y"
            (self.warn if has_params else self.error)("missing-assumeyes", word, message, "add -y")
        self.check_targets(word, has_params)
        if res.name == "rest":
            for use in self.used("--method"):
                if (use.value or "").lower() in ("delete", "put", "post", "patch"):
                    message = f"`rest` with {use.name} {use.value} changes resources with no confirmation"
                    self.warn("rest-write", use.word, message)
        elif res.is_global and res.name != "config" and not sub.read_only:
            message = f"`{res.name}` is global: `{sub.name}` goes to the real account API, not the sandbox zone"
            self.warn("global-not-sandboxed", inv.resource_word or res.name, message)

    def check_targets(self, word: str, has_params: bool) -> None:
        inv, sub, res = self.inv, self.inv.subcommand, self.inv.resource
        args, what = inv.positionals, f"`{res.name} {sub.name}`"
        if res.name == "rest":
            if len(args) != 1:
                code = "too-many-targets" if args else "missing-target"
                self.error(code, word, "`rest request` takes exactly one URL")
            return
        if sub.selector in ("single", "multi") and not args and not has_params:
            self.error("missing-target", word, f"{what} needs an ID, NAME or TAG argument")
        if sub.selector == "single" and len(args) > 1 and (res.name, sub.name) != ("server", "ssh"):
            self.error("too-many-targets", args[1], f"{what} allows a single target, got {len(args)}")
        if sub.selector == "none" and args:
            self.warn("ignored-argument", args[0], f"{what} takes no positional arguments; `{args[0]}` is ignored")
        exact = any((u.value or "").lower() == "exact" for u in self.used("--argument-match-mode"))
        names = [a for a in args if not a.isdigit()]
        if sub.destructive and sub.selector in ("single", "multi") and names and not exact:
            message = (
                f"`{names[0]}` matches every {res.name} whose name contains it; "
                "add --argument-match-mode exact or use the ID"
            )
            self.warn("partial-name-match", names[0], message, "--argument-match-mode exact")

    def run(self) -> list[Finding]:
        known = self.check_path()
        self.check_flags(known)
        if known and self.inv.subcommand is not None:
            self.check_subcommand()
        return self.findings


def check_command(words: Sequence[str]) -> list[Finding]:
    """All findings for one command line (argv, ``words[0]`` is the binary). Never raises."""
    return _Checker(words).run()
