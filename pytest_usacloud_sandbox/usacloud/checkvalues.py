"""The offline check's parameter stage: what usacloud validates once pflag has read the flags.

usacloud (pkg/core/command.go) reads ``--parameters`` (a bad one is printed and usacloud exits 0
having done nothing), then validates the parameter struct: every field's ``validate`` tag
(:mod:`validate`; the zone is checked here with the sandbox's zones in mind) and then, only if
those passed, the subcommand's own Validate function (:mod:`customvalidate`), and last what
its service refuses before calling the API (:mod:`servicevalidate`). Every failure is reported at
once, as usacloud prints it (after ``validation error:`` for its own rules), with what to do about it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import customvalidate as custom
from .commands import GLOBAL_FLAGS, SANDBOX_ZONE, ZONES, Flag, FlagUse, Subcommand
from .customize import json_list_errors
from .fields import STRUCT_TAGS, Field, Fields
from .finding import ERROR, did_you_mean, first
from .params import Parameters, read_parameters
from .servicevalidate import service_error
from .validate import Context, FieldError, Value, validate
from .values import suggest
from .versions import DEPRECATED_FLAGS

if TYPE_CHECKING:
    from .check import Checker

#: Fields that reach the validator through an embedded struct below the top level (server create's
#: disk embeds cflag.DescParameter and cflag.TagsParameter): usacloud names them by the Go field alone.
EMBEDDED_BELOW_TOP = frozenset({"Disk.Description", "Disk.Tags"})
_WHAT = {
    "ipv4": "an IPv4 address",
    "ipv6": "an IPv6 address",
    "cidrv4": "an IPv4 network with no host bits set (192.168.0.0/24)",
    "mac": "a MAC address (00:00:5e:00:53:01)",
    "fqdn": "a fully qualified domain name",
    "json": "JSON",
}


def kebab(name: str) -> str:
    """xstrings.ToKebabCase of a Go field name as usacloud's naming.ToCLIFlag uses it ("IPAddresses[0]")."""
    base, bracket, index = name.partition("[")
    words = re.findall(r"[A-Z]+(?![a-z])\d*|[A-Z]?[a-z]+\d*|\d+", base)
    return "-".join(w.lower() for w in words) + bracket + index


def usacloud_name(flag: Flag, error: FieldError) -> str:
    """The flag name usacloud prints for a failure (validate.flagName): the flag's own, unless the
    field is a list element or sits in an embedded struct, when it is the Go field's name."""
    if error.index is None and flag.field not in EMBEDDED_BELOW_TOP:
        return flag.name
    return "--" + kebab(error.field.rpartition(".")[2])


class ParameterCheck:
    """usacloud's validation of one resolved command; findings go to the :class:`check.Checker`."""

    def __init__(self, checker: Checker) -> None:
        self.ck = checker
        self.inv = checker.inv
        self.reported: set[str] = set()  # flags a per-use check already failed

    def run(self) -> None:
        errors_before = self.errors()
        params = self.read_parameters()
        seen = set()
        for use in reversed(self.inv.flags):  # the last use of a flag is the one usacloud keeps
            if use.flag is None or use.flag.name in seen or use.value is None:
                continue
            seen.add(use.flag.name)
            self.check_use(use, use.flag, use.value)
        sub = self.inv.subcommand
        if sub is None:
            return
        if sub.has_zone:
            self.check_parameters_zone(params)
        if params is not None and params.data is None:
            return  # unread (said so) or broken: usacloud stops before validating, or we cannot know
        fields = Fields(sub, self.ck.given, params)
        if fields.json_errors:
            word = self.ck.last("--parameters").word
            message = f"`--parameters`: {fields.json_errors[0]} (usacloud prints that and does nothing)"
            self.ck.error("bad-parameters", word, message)
            return
        res = self.inv.resource.name
        named = custom.profile_name_from_argument(res, sub.name, self.inv)
        if named is not None and fields.get("Name") is not None:
            fields.set("Name", Value("string", named))
        if not custom.skips_rules(res, sub.name):
            self.check_rules(sub, fields, params)
        if self.errors() == errors_before:  # the subcommand's own checks run once the rules pass
            command = custom.Command(self.inv, fields, params, self.ck.base_dir, self.ck.home)
            word = self.inv.subcommand_word or res
            errors = custom.custom_errors(res, sub.name, command) or json_list_errors(command)
            for error in errors:
                line = f"validation error: {error.line}" if error.framed else error.line
                self.ck.error(error.code, word, f"{line} — {error.message}", error.fix)
            refused = None if errors else service_error(res, sub.name, command)
            if refused is not None:  # the service's own check, once usacloud's passed
                line = " ".join(refused.line.split())
                self.ck.error(refused.code, word, f"{line} — {refused.message}", refused.fix)

    def errors(self) -> int:
        return sum(1 for f in self.ck.findings if f.severity == ERROR)

    def read_parameters(self) -> Parameters | None:
        use = self.ck.last("--parameters")
        if use is None or not use.value:
            return None
        params = read_parameters(use.value, self.ck.base_dir, self.ck.home)
        if params.source == "broken":
            self.ck.error(
                "bad-parameters", use.word, f"`--parameters`: {params.note} (usacloud prints that and does nothing)"
            )
        elif params.source == "unread":
            message = f"--parameters: {params.note}; the parameter checks are skipped for this command"
            self.ck.warn("parameters-unread", use.word, message)
        return params

    # -- one flag as written ------------------------------------------------------------------------
    def check_use(self, use: FlagUse, flag: Flag, value: str) -> None:
        ck = self.ck
        if ck.v0_output_type(use):
            self.reported.add(flag.name)
            return
        if flag.name == "--zone":
            self.check_zone(use, value)
            return
        if value == "=" and use.value_index is not None:  # the value is not echoed: it may be a secret
            message = f"`{use.name} = ...` sets `{use.name}` to `=`: remove the spaces around `=`"
            ck.error("spaced-equals", use.word, message, f"{use.name}=VALUE")
            self.reported.add(flag.name)
            return
        res = self.inv.resource
        if res is not None and (res.name, flag.name) in DEPRECATED_FLAGS:
            ck.warn("deprecated-flag", use.word, f"`{use.name}` is {DEPRECATED_FLAGS[res.name, flag.name]}")

    def check_zone(self, use: FlagUse, value: str) -> None:
        inv, ck = self.inv, self.ck
        is_rest = inv.resource is not None and inv.resource.name == "rest"
        if inv.subcommand is None or not (inv.subcommand.has_zone or is_rest):
            return  # config edit/create: a profile value
        zones = next((u for u in inv.flags if u.flag in GLOBAL_FLAGS and u.flag.name == "--zones"), None)
        permitted = tuple((zones.value or "").split(",")) if zones else ZONES
        sandbox = f"--zone={SANDBOX_ZONE}"
        if value == "=" and use.value_index is not None:  # v0: --zone = all
            k = use.value_index + 1
            nxt = ck.words[k] if k < len(ck.words) else "<zone>"
            message = f"`--zone = {nxt}` is the v0 spelling (usacloud v1 reads the zone `=`): write `--zone={nxt}`"
            ck.error("spaced-equals", use.word, message, f"--zone={nxt}")
        elif value == "all" and is_rest:
            ck.error("bad-zone", use.word, "`rest` rejects `--zone=all`; name one zone", sandbox)
        elif value == "all" and permitted != (SANDBOX_ZONE,):  # with --zones tk1v, `all` is the sandbox only
            ck.warn(
                "zone-all", use.word, "`--zone=all` fans out over every permitted zone, production included", sandbox
            )
        elif value not in ("all", "") and value not in permitted:
            options = suggest(value, permitted)
            fix = SANDBOX_ZONE if SANDBOX_ZONE in options or not options else options[0]
            what = "a zone `--zones` does not permit" if value in ZONES else "unknown zone"
            message = f"{what} `{value}`: one of all, {', '.join(permitted)}{did_you_mean(options)}"
            ck.error("bad-zone", use.word, message, fix)

    def check_parameters_zone(self, params: Parameters | None) -> None:
        """With --parameters, usacloud drops the zone it took from SAKURACLOUD_ZONE (the sandbox's)."""
        if params is None or params.data is None or self.ck.used("--zone"):
            return
        word = self.ck.last("--parameters").word
        zone = params.value("Zone")
        if not params.has("Zone"):
            message = (
                '`--parameters` replaces the zone from the environment: without "Zone" in it or `--zone`, '
                "usacloud fails with `--zone: required`"
            )
            self.ck.error("missing-required", word, message, f"--zone {SANDBOX_ZONE}")
        elif zone not in (SANDBOX_ZONE, "all"):
            message = (
                f'"Zone": {zone!r} in --parameters is not rewritten by the sandbox, and usacloud rejects it '
                f"there (SAKURACLOUD_ZONES={SANDBOX_ZONE}); remove it and pass --zone"
            )
            self.ck.error("bad-zone", word, message, f"--zone {SANDBOX_ZONE}")

    # -- the validator's rules ----------------------------------------------------------------------
    def check_rules(self, sub: Subcommand, fields: Fields, params: Parameters | None) -> None:
        structs = STRUCT_TAGS.get((self.inv.resource.name, sub.name), {})
        for struct, tag in structs.items():
            if tag == "omitempty,dive" and fields.struct_set(struct):
                self.panics(sub, struct)
                return  # the validator panics there: nothing else is reported
        skipped = tuple(s + "." for s, tag in structs.items() if tag == "omitempty" and not fields.struct_set(s))
        for flag in sub.flags:
            if not flag.validate or not flag.field or flag.name == "--zone" or flag.name in self.reported:
                continue
            unset = flag.name not in fields.values and fields.params is None and flag.field not in fields.by_field
            if unset and flag.validate.startswith("omitempty,"):
                continue  # nil or zero, where omitempty stops (a default in code is valid anyway)
            field = fields.get(flag.field)
            if field is None or field.default:
                continue
            if skipped and flag.field.startswith(skipped):
                continue  # an all-zero struct tagged omitempty is not looked into
            context = Context(lambda name, of=flag.field: fields.sibling(of, name), self.ck.base_dir)
            for error in validate(flag.field, flag.validate, field.value, context):
                self.report(sub, fields, field, error, params)

    def panics(self, sub: Subcommand, struct: str) -> None:
        given = [f for f in sub.flags if f.field.startswith(struct + ".") and self.ck.used(f.name)]
        names = ", ".join(f.name for f in given) or f"the {struct} fields"
        message = (
            "panic: dive error! can't dive on a non slice or map — usacloud 1.22.8 crashes (exit 2) validating "
            f"{names}: its tag dives into a struct, so these settings cannot be made with it"
        )
        self.ck.error("usacloud-crash", given[0].name if given else self.inv.subcommand_word or sub.name, message)

    def report(self, sub: Subcommand, fields: Fields, field: Field, error: FieldError, params) -> None:
        flag, rule = field.flag, error.rule
        line = f"validation error: {usacloud_name(flag, error)}: {error.detail()}"
        use = self.ck.last(flag.name) if field.source == "flag" else None
        word = use.word if use is not None else self.inv.subcommand_word or sub.name
        name = use.name if use is not None else flag.name
        if rule.name in ("required", "required_with", "required_without"):
            self.ck.error(
                "missing-required",
                word,
                f"{line} — {self.missing(sub, field, rule.name, rule.param, params)}",
                flag.name,
            )
            return
        if rule.name == "oneof":
            options = rule.param.split()
            bad = str(error.value)
            same = [o for o in options if o.lower() == bad.lower()]
            close = same + [o for o in suggest(bad.lower(), options) if o not in same]
            code = "bad-output-type" if flag.name == "--output-type" else "bad-value"
            fix = first(close) or (options[1] if flag.name == "--output-type" else None)
            self.ck.error(code, word, f"{line} — `{name}` does not take `{bad}`{did_you_mean(close[:2])}", fix)
            return
        if rule.name == "file":
            self.ck.error("bad-file", word, f"{line} — no such file where usacloud runs (the script's directory)")
            return
        self.ck.error("bad-value", word, f"{line} — {self.explain(name, field, error)}", self.fix(error))

    def missing(self, sub: Subcommand, field: Field, rule: str, param: str, params) -> str:
        flag = field.flag
        if rule != "required":
            others = [self.flag_of(sub, field, p) for p in param.split()]
            joined = " or ".join(f"`{o}`" for o in others)
            return f"`{flag.name}` is needed {'with' if rule == 'required_with' else 'unless you give'} {joined}"
        if field.source == "zero" or field.value.value is None:
            where = "" if params is None else " (or in --parameters)"
            return f"`{self.inv.resource.name} {sub.name}` needs `{flag.name}`{where}"
        shown = "an empty list" if field.value.kind == "list" else f"`{field.value.value!r}`".replace("'", '"')
        if flag.value == "id":
            shown = "an ID that is no number (usacloud reads it as 0)"
        return f"`{flag.name}` is given {shown}, which usacloud counts as missing"

    @staticmethod
    def flag_of(sub: Subcommand, field: Field, name: str) -> str:
        parent = field.flag.field.rpartition(".")[0]
        path = f"{parent}.{name}" if parent else name
        return next((f.name for f in sub.flags if f.field == path), name)

    @staticmethod
    def explain(name: str, field: Field, error: FieldError) -> str:
        rule, value = error.rule, error.value
        subject = f"`{name}`" if error.index is None else f"value {error.index + 1} of `{name}`"
        if rule.name in ("min", "max", "gt"):
            bound = {"min": "at least", "max": "at most", "gt": "more than"}[rule.name]
            if isinstance(value, list):
                return f"`{name}` takes {bound} {rule.param} values, not {len(value)}"
            if isinstance(value, str):
                return f"{subject} takes {bound} {rule.param} characters, not {len(value)}"
            return f"{subject} must be {bound} {rule.param}, not {value}"
        if rule.name == "unique":
            seen, twice = set(), None
            for item in value or ():
                if item in seen:
                    twice = item
                    break
                seen.add(item)
            return f"`{name}` lists `{twice}` more than once"
        if rule.name == "excludesrune":
            return f"{subject} must not contain `{rule.param}`"
        if rule.options:
            return f"{subject} `{value}` is neither {' nor '.join(o.name for o in rule.options)}"
        return f"{subject} `{value}` is not {_WHAT.get(rule.name, rule.name)}"

    @staticmethod
    def fix(error: FieldError) -> str | None:
        return error.rule.param if error.rule.name in ("min", "max") else None
