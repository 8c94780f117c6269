"""Offline check of one usacloud command line (dry-run, and before each real command).

It runs on the words as the script wrote them, before the sandbox rewrites any zone, and follows
usacloud 1.22.8's own order: cobra finds the command, pflag reads the flags (the first bad flag
stops it), usacloud validates the parameters (every problem at once), then needs its targets and
the confirmation. Errors are what usacloud rejects (or what does nothing, such as a bare resource
that only prints help) and v0 forms v1 removed; warnings are commands that work but are risky or
deprecated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ..record.command import Finding
from . import pflag
from .checkvalues import ROOT_FLAG_VALUES, ParameterCheck
from .commands import GLOBAL_FLAGS, ROOT_COMMANDS, FlagUse, Invocation, all_resources, find_resource, resolve
from .finding import ERROR, WARNING, did_you_mean, first
from .values import GO_TRUE, levenshtein, suggest, suggest_flag
from .versions import DEPRECATED_ALIASES, REMOVED_SUBCOMMANDS, V0_OUTPUT_TYPES, V0_REMOVED

__all__ = ["ERROR", "ROOT_FLAG_VALUES", "WARNING", "Finding", "check_command", "levenshtein", "suggest"]


COMPLETION_SHELLS = ("bash", "zsh", "fish", "powershell")
INFO_FLAGS = ("--generate-skeleton", "--example")  # print something and exit before validation
#: The flags every subcommand of a kind shares (output, input, zone, confirmation); a "did you
#: mean" looks at the subcommand's own flags first.
SHARED_FLAGS = frozenset(
    {"--zone", "--output-type", "--quiet", "--format", "--query", "--query-driver", "--assumeyes"}
    | {"--parameters", "--generate-skeleton", "--example"}
)


def _argv(words: Sequence[str]) -> tuple[str, ...]:
    try:
        return tuple("" if w is None else str(w) for w in (words or ()))
    except TypeError:
        return ()


class Checker:
    def __init__(self, words: Sequence[str], base_dir: str | Path | None, home: str | None) -> None:
        self.inv: Invocation = resolve(words)
        self.words = _argv(words)
        self.base_dir = base_dir
        self.home = home
        self.findings: list[Finding] = []
        self.given: dict[str, object] = {}  # each flag's value as pflag leaves it (canonical name -> value)
        self.help = any(u.flag is not None and u.flag.name == "--help" for u in self.inv.flags)

    def error(self, code: str, word: str, message: str, fix: str | None = None) -> None:
        self.findings.append(Finding(ERROR, code, word, message, fix))

    def warn(self, code: str, word: str, message: str, fix: str | None = None) -> None:
        self.findings.append(Finding(WARNING, code, word, message, fix))

    def used(self, canonical: str) -> tuple[FlagUse, ...]:
        return self.inv.flag_uses(canonical)

    def last(self, canonical: str) -> FlagUse | None:
        """The use pflag keeps when a flag is given several times: the last one."""
        uses = self.used(canonical)
        return uses[-1] if uses else None

    # -- the command path (cobra) ----------------------------------------------------------
    def check_path(self) -> bool:
        """Resource and subcommand; returns True when the command is known."""
        inv = self.inv
        if inv.root in ROOT_COMMANDS and inv.root != "iaas":
            self.check_root_command()
            return True
        if inv.resource_word is None:
            if inv.root is None and self.used("--version"):
                return True  # `usacloud -v`
            where = "usacloud iaas" if inv.root == "iaas" else "usacloud"
            self.help_only("missing-command", where, f"`{where}` without a command only prints help")
            return False
        word = inv.resource_word
        if inv.resource is None:
            if word in V0_REMOVED:
                new = V0_REMOVED[word]
                tail = f"use `{new}`" if new else "discontinued, no replacement"
                self.error("v0-removed", word, f"`{word}` was removed in usacloud v1: {tail}", new)
            elif inv.root == "iaas" and find_resource(word) is not None:
                message = f"`{word}` is not under `iaas`; run `usacloud {word}`"
                self.help_only("unknown-resource", word, message, f"usacloud {word}")
            else:
                pool = [w for r in all_resources() if inv.root is None or r.location == "iaas" for w in r.names]
                options = suggest(word, pool + ([] if inv.root else list(ROOT_COMMANDS)))
                message = f"unknown command `{word}`{did_you_mean(options)}"
                if inv.root == "iaas":  # under `iaas` cobra prints help; at the root it fails
                    self.help_only("unknown-resource", word, message, first(options))
                else:
                    self.error("unknown-resource", word, message, first(options))
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
            self.help_only("missing-subcommand", word, f"`{word}` needs a subcommand (it only prints help)")
            return False
        sword = inv.subcommand_word
        options = suggest(sword, [w for s in res.subcommands for w in (s.name, *s.aliases)])
        note = REMOVED_SUBCOMMANDS.get((res.name, sword))
        message = f"`{sword}` is not a subcommand of `{res.name}`" + (f": {note}" if note else did_you_mean(options))
        self.help_only("unknown-subcommand", sword, message, first(options))
        return False

    def help_only(self, code: str, word: str, message: str, fix: str | None = None) -> None:
        """usacloud prints help and exits 0: a typo, unless the script asked for help."""
        if not self.help:
            self.error(code, word, message, fix)

    def check_root_command(self) -> None:
        root, args = self.inv.root, self.inv.positionals
        if self.help:
            return
        if root == "completion" and (len(args) != 1 or args[0] not in COMPLETION_SHELLS):
            self.error(
                "bad-argument", " ".join(args), f"`completion` takes one of {', '.join(COMPLETION_SHELLS)}", "bash"
            )
        if root == "update-self":
            if args:
                self.error("bad-argument", args[0], "`update-self` takes no arguments")
            self.warn("self-update", root, "`update-self` replaces the usacloud binary in place, without confirmation")

    # -- flags as pflag reads them ---------------------------------------------------------------
    def check_flags(self, known: bool) -> bool:
        """Returns False at the first flag pflag would refuse (it stops there, and so does usacloud);
        the values it parses go to :attr:`given`."""
        parsed: dict[str, list[object]] = {}
        flags = {}
        for use in self.inv.flags:
            if use.name == "--selector":
                target = (use.value or "").partition("=")[2] or use.value or "<target>"
                message = f"`--selector` was removed in v1; pass the target as a positional argument: {target}"
                self.error("v0-selector", use.word, message, target)
                return False
            if not known:
                self.v0_output_type(use)
                continue
            if use.flag is None:
                self.unknown_flag(use)
                return False
            flag = use.flag
            if flag.takes_value and use.value is None:
                self.error("missing-value", use.word, f"`{use.name}` needs a value")
                return False
            value, problem = pflag.parse_use(flag, use.value)
            if problem is not None:
                error = pflag.invalid_argument(flag, use.value or "", problem)
                what = {"bool": "is a switch: true or false", "int": "takes a whole number"}.get(flag.value, "")
                message = f"Error: {error}" + (f" — `{use.name}` {what}" if what else "")
                self.error("invalid-argument", use.word, message, use.name if flag.value == "bool" else None)
                return False
            parsed.setdefault(flag.name, []).append(value)
            flags[flag.name] = flag
        self.given = {name: pflag.combine(flags[name], values) for name, values in parsed.items()}
        return True

    def v0_output_type(self, use: FlagUse) -> bool:
        if use.name in ("-o", "--output-type", "--out") and (use.value or "").lower() in V0_OUTPUT_TYPES:
            message = f"output type `{use.value}` was removed in v1; use json (or --query/--format)"
            self.error("v0-output-type", use.word, message, "json")
            return True
        return False

    def unknown_flag(self, use: FlagUse) -> None:
        res, sub = self.inv.resource, self.inv.subcommand
        if use.name == "--zone" and res is not None and res.scope != "zoned":
            what = "global" if res.is_global else "zone-less"
            message = f"`{res.name}` is {what}: it has no --zone (usacloud fails: unknown flag); remove `{use.word}`"
            self.error("zone-on-global", use.word, message, "remove --zone")
        elif use.name in ("-y", "--assumeyes") and sub is not None:
            message = f"`{sub.name}` does not ask for confirmation and has no -y/--assumeyes; remove it"
            self.error("unknown-flag", use.word, message, "remove -y")
        else:
            own = [w for f in (sub.flags if sub else ()) if f.name not in SHARED_FLAGS for w in f.names]
            shared = [w for f in (sub.flags if sub else ()) if f.name in SHARED_FLAGS for w in f.names]
            root = [w for f in GLOBAL_FLAGS for w in f.names]
            options = suggest_flag(use.name, (own, shared, root))
            self.error("unknown-flag", use.word, f"unknown flag `{use.name}`{did_you_mean(options)}", first(options))

    # -- targets, confirmation and hazards -------------------------------------------------------
    def check_subcommand(self) -> None:
        inv, sub, res = self.inv, self.inv.subcommand, self.inv.resource
        word = inv.subcommand_word or inv.resource_word or ""
        if sub.confirm and not any((u.value or "true") in GO_TRUE for u in self.used("--assumeyes")):
            extra = " (--parameters cannot carry it)" if self.used("--parameters") else ""
            message = f"`{res.name} {sub.name}` asks for confirmation and fails without a terminal; add -y{extra}"
            self.error("missing-assumeyes", word, message, "add -y")
        self.check_targets(word)
        if res.name == "rest":
            for use in self.used("--method"):
                if (use.value or "").lower() in ("delete", "put", "post", "patch"):
                    message = f"`rest` with {use.name} {use.value} changes resources with no confirmation"
                    self.warn("rest-write", use.word, message)
        elif res.is_global and res.name != "config" and not sub.read_only:
            message = f"`{res.name}` is global: `{sub.name}` goes to the real account API, not the sandbox zone"
            self.warn("global-not-sandboxed", inv.resource_word or res.name, message)

    def check_targets(self, word: str) -> None:
        inv, sub, res = self.inv, self.inv.subcommand, self.inv.resource
        args, what = inv.positionals, f"`{res.name} {sub.name}`"
        if res.name == "rest":
            if len(args) != 1:
                code = "too-many-targets" if args else "missing-target"
                self.error(code, word, "`rest request` takes exactly one URL")
            return
        if sub.selector in ("single", "multi") and not args:
            extra = " (--parameters cannot name targets)" if self.used("--parameters") else ""
            self.error("missing-target", word, f"{what} needs an ID, NAME or TAG argument{extra}")
        if sub.selector == "single" and len(args) > 1 and (res.name, sub.name) != ("server", "ssh"):
            self.error("too-many-targets", args[1], f"{what} allows a single target, got {len(args)}")
        # the word after a spaced "=" is already reported (and may be a secret): not echoed again
        spaced = {
            self.words[u.value_index + 1]
            for u in inv.flags
            if u.value == "=" and u.value_index is not None and u.value_index + 1 < len(self.words)
        }
        stray = [a for a in args if a not in spaced]
        if sub.selector == "none" and stray:
            self.warn("ignored-argument", stray[0], f"{what} takes no positional arguments; `{stray[0]}` is ignored")
        exact = any((u.value or "").lower() == "exact" for u in self.used("--argument-match-mode"))
        names = [a for a in args if not a.isdigit()]
        if sub.dangerous and sub.selector in ("single", "multi") and names and not exact:
            message = (
                f"`{names[0]}` matches every {res.name} whose name contains it; "
                "add --argument-match-mode exact or use the ID"
            )
            self.warn("partial-name-match", names[0], message, "--argument-match-mode exact")

    def run(self) -> list[Finding]:
        known = self.check_path()
        if not self.check_flags(known):
            return self.findings
        if self.help:  # cobra prints help before usacloud validates anything
            if not any(f.severity == ERROR for f in self.findings):
                message = "`-h`/`--help` prints help and runs nothing: this command does no work"
                self.warn("help-only", "--help", message)
            return self.findings
        if not known:
            return self.findings
        if self.inv.subcommand is None:
            ParameterCheck(self).run()
            return self.findings
        if any((self.last(name).value or "true") in GO_TRUE for name in INFO_FLAGS if self.used(name)):
            return self.findings  # --generate-skeleton / --example print and exit before validating
        ParameterCheck(self).run()
        self.check_subcommand()
        return self.findings


def check_command(words: Sequence[str], base_dir: str | Path | None = None, home: str | None = None) -> list[Finding]:
    """All findings for one command line (argv, ``words[0]`` is the binary). Never raises.

    ``base_dir`` is the script's directory, where usacloud runs: a relative ``--parameters`` file is
    read from there; ``home`` is usacloud's ``$HOME`` (``~/`` in ``--parameters``)."""
    return Checker(words, base_dir, home).run()
