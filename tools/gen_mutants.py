#!/usr/bin/env python3
"""Generate ``tests/data/mutants.jsonl``: command lines just inside and just outside usacloud's rules.

Usage (from the repository root)::

    python tools/gen_mutants.py [OUTPUT]
    python tools/gen_mutants.py --confirm-with /path/to/usacloud [OUTPUT]

For every flag of the command table that carries a validation tag (a sample of the flags every
subcommand shares: output type, query driver, tags, description), each rule of its tag gives values
just inside and just outside it: numbers at and beyond ``min``/``max``, strings and lists of the
longest and one past, each allowed value and a near miss, addresses that parse and ones that do
not, a duplicate for ``unique``, a bad second element for ``dive``, the partner flag for
``required_with``, an existing and a missing file. Added by hand: the subcommands' own Validate
rules, pflag's value syntax (Go integers, booleans, CSV lists, repeated flags, IDs) and
``--parameters`` JSON. Each line is one correct command with one mutation.

The expected verdict of each line comes from the rule as go-playground/validator and usacloud's
source define it (``"expected_by": "rule"``), worked out here independently of the plugin's check;
``tests/test_mutants.py`` holds the check to them, and re-runs them through a real usacloud when
``USACLOUD_REAL_BIN`` names one (``"expected_by": "real usacloud 1.22.8"`` once a run confirmed a
line; ``--confirm-with`` runs every line through that binary and records its verdict and lines
where it decided them). A line marked ``words_vary`` holds Go's words as one Go release prints them
(others word them differently): its verdict is held, not its words. Every line runs in a directory
holding ``mutant-file.txt``; a line that needs more files names them in ``files`` (relative to the
directory usacloud runs in).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from pytest_usacloud_sandbox.usacloud.commands import all_resources  # noqa: E402
from pytest_usacloud_sandbox.usacloud.fields import STRUCT_TAGS  # noqa: E402
from pytest_usacloud_sandbox.usacloud.pflag import GO_BOOLS  # noqa: E402
from pytest_usacloud_sandbox.usacloud.values import GO_TRUE  # noqa: E402

OUTPUT = REPO_ROOT / "tests" / "data" / "mutants.jsonl"
ID = "123456789012"
FILE = "mutant-file.txt"
FILES = {FILE: "a file usacloud can read\n"}
#: An authorized_keys line (32 counting bytes as the Ed25519 key: the structure is what is checked).
PUBLIC_KEY = (
    "ssh-ed25519 "
    + base64.b64encode(b"".join(struct.pack(">I", len(p)) + p for p in (b"ssh-ed25519", bytes(range(1, 33))))).decode()
)
#: Flags nearly every subcommand has: a few subcommands each, of every Go type they come in.
SHARED = ("--output-type", "--query-driver")
SHARED_SAMPLE = 4
#: usacloud's aliases that are not a list of allowed values (pkg/vdef/validators.go).
STRUCTURAL = {
    "description": "max=512",
    "tags": "unique,max=10,dive,max=32",
    "profile_name": "excludesrune=:",
    "weekdays": "unique,dive,oneof=all sun mon tue wed thu fri sat",
}
#: Allowed values of named validators whose flags list none (iaas-api-go types).
OPTIONS = {"gslb_protocol": "http https ping tcp", "proxylb_protocol": "http tcp", "output_type": "table json yaml"}
FORMATS = {
    "ipv4": (["192.168.0.1", "::ffff:192.168.0.1"], ["192.168.0.256", "192.168.00.1", "2001:db8::1"]),
    "ipv6": (["2001:db8::1", "::1"], ["192.168.0.1", "2001:db8::g"]),
    "cidrv4": (["192.168.0.0/24", "10.0.0.0/8"], ["192.168.0.1/24", "192.168.0.0/33", "2001:db8::/32"]),
    "fqdn": (["www.example.com", "example.com."], ["example", "1.2.3.4", "a_b.example.com"]),
    "mac": (["00:11:22:33:44:55", "0011.2233.4455"], ["00:11:22:33:44", "00:11:22:33:44:gg"]),
}
BUILTIN = ("oneof", "min", "max", "gt", "required", "omitempty", "unique", "dive", "file", "file|json")
BUILTIN += ("required_with", "required_without", "excludesrune")
#: Flags usacloud decodes as a JSON list (a file's or the text) before it calls the API.
JSON_LIST_FIELDS = ("ScheduleScalingData", "ClientsData", "ServersData", "NotesData", "UsersData", "RecordsData")
JSON_LIST_FIELDS += ("VirtualIPAddressesData", "PeersData", "StaticRoutesData", "SIMsData", "SIMRoutesData")
JSON_LIST_FIELDS += ("ExpressionsData", "BindPortsData", "RulesData", "NetworkInterfaceData", "DisksData")
JSON_LIST_FIELDS += ("PrivateNetworkInterfacesData",)
#: Fields reached through an embedded struct below the top level: usacloud names them by the Go field.
EMBEDDED = {"Disk.Description": "--description", "Disk.Tags": "--tags"}


def kebab(name: str) -> str:
    words = re.findall(r"[A-Z]+(?![a-z])\d*|[A-Z]?[a-z]+\d*|\d+", name)
    return "-".join(w.lower() for w in words)


def rules_of(flag) -> list[tuple[str, str]]:
    """The flag's tag as (rule, param) pairs, usacloud's aliases expanded."""
    out = []
    for part in (flag.validate or "").split(","):
        name, _, param = part.partition("=")
        if name in STRUCTURAL:
            out += [(n, p) for n, _, p in (x.partition("=") for x in STRUCTURAL[name].split(","))]
        elif name in OPTIONS:
            out.append(("oneof", OPTIONS[name]))
        elif name and name not in BUILTIN and name not in FORMATS:
            out.append(("oneof", " ".join(flag.options or ())))  # a named list of allowed values
        elif name:
            out.append((name, param))
    return out


def pointer(flag) -> bool:
    return (flag.go_type or "").startswith("*")


def is_list(flag) -> bool:
    return flag.value == "strings" or (flag.go_type or "").lstrip("*").startswith("[]")


def element_value(rules: list[tuple[str, str]]) -> str:
    """An element that passes every rule after ``dive``."""
    for name, param in rules:
        if name in FORMATS:
            return FORMATS[name][0][0]
        if name == "oneof":
            return param.split()[1] if len(param.split()) > 1 else param.split()[0]
    return "a"


def inside(flag) -> str:
    """A value the flag's rules accept (and the subcommand's own rules: key=value database parameters)."""
    if flag.name == "--database-parameters":
        return "max_connections=100"
    if flag.name in ("--disk-edit-ssh-keys", "--public-key"):
        return PUBLIC_KEY
    if "file|json" in (flag.validate or ""):
        return "{}"
    if flag.name == "--network-interface-upstream":
        return "shared"
    if flag.field.rpartition(".")[2] in JSON_LIST_FIELDS:
        return "[]"
    rules = rules_of(flag)
    names = [n for n, _ in rules]
    if "dive" in names:
        after = rules[names.index("dive") + 1 :]
        before = dict(rules[: names.index("dive")])
        count = int(before.get("min", 1))
        elements = [element_value(after)] if count <= 1 else [element_value(after)] + ["192.168.0.2"] * (count - 1)
        if count > 1 and "ipv4" not in dict(after):
            elements = [f"{element_value(after)}{i}" for i in range(count)]
        return ",".join(elements)
    params = dict(rules)
    if "oneof" in params:
        return params["oneof"].split()[0]
    if "file" in params:
        return FILE
    for name in FORMATS:
        if name in params:
            return FORMATS[name][0][0]
    if flag.value in ("int", "id"):
        if "min" in params:
            return params["min"] if params["min"] != "0" else "1"
        return ID if flag.value == "id" else "1"
    if flag.value == "strings":
        return "a,b"
    return "x"


def base_command(res, sub) -> list[str]:
    """The subcommand written so that usacloud accepts it: required flags, -y, a target."""
    argv = ["iaas"] if res.location == "iaas" else []
    argv += [res.name, sub.name]
    argv += ["-y"] if sub.confirm else []
    for flag in sub.flags:
        tag = flag.validate or ""
        needed = flag.required and flag.name != "--zone"
        needed |= tag.startswith("required_without=") and "private_host_class" in tag
        if needed:
            argv += [flag.name, inside(flag)]
    if (res.name, sub.name) == ("ssh-key", "create"):
        argv[argv.index("--public-key") + 1] = PUBLIC_KEY
    if (res.name, sub.name) == ("mobile-gateway", "create"):  # its service wants the whole private interface
        argv += ["--private-interface-switch-id", ID, "--private-interface-network-mask-len", "24"]
    argv += [ID] if sub.selector in ("single", "multi") else []
    argv += ["/zone/tk1v/api/cloud/1.1/zone"] if res.name == "rest" else []
    argv += ["ci"] if (res.name, sub.name) == ("config", "create") else []
    return argv


def with_flag(base: list[str], flag, words: list[str]) -> list[str]:
    """``base`` with ``flag`` set to ``words`` (replacing the base's own value of it)."""
    out = list(base)
    if flag.name in out:
        i = out.index(flag.name)
        del out[i : i + 2]
    cut = out.index(base[2 if base[0] == "iaas" else 1]) + 1
    return out[:cut] + words + out[cut:]


def without_flag(base: list[str], flag) -> list[str]:
    out = list(base)
    if flag.name in out:
        i = out.index(flag.name)
        del out[i : i + 2]
    return out


class Mutants:
    def __init__(self) -> None:
        self.lines: list[dict] = []
        self.only_rejected = False  # the accepted side depends on the machine (a profile must exist)

    def add(self, kind: str, argv: list[str], lines: list[str] | None, **extra) -> None:
        verdict = "rejected" if lines else "accepted"
        if verdict == "accepted" and self.only_rejected:
            return
        ident = f"{len(self.lines) + 1:04d}-{kind.replace(' ', '-')}"
        record = {"id": ident, "kind": kind, "argv": argv, "expected": verdict, "lines": sorted(lines or [])}
        record["expected_by"] = "rule"
        record.update(extra)
        self.lines.append(record)

    # -- the validator's rules, flag by flag --------------------------------------------------------
    def flag(self, res, sub, flag) -> None:
        if custom_skips_rules(res, sub):
            return  # config create validates its name itself and never runs the rules
        # config delete/path/show/use then look the profile up: it exists only on some machines
        self.only_rejected = res.name == "config" and sub.name in ("delete", "path", "show", "use")
        base = self.complete(sub, base_command(res, sub))
        rules = rules_of(flag)
        names = [n for n, _ in rules]
        name = EMBEDDED.get(flag.field, flag.name)
        dive = names.index("dive") if "dive" in names else None
        own = rules if dive is None else rules[:dive]
        value = PUBLIC_KEY if flag.name == "--public-key" else inside(flag)
        self.check(res, sub, f"inside {_kind(rules)}", with_flag(base, flag, [flag.name, value]), None)
        zero = "" if is_list(flag) or flag.value not in ("int", "id") else "0"
        zero_kind = f"zero value ({_gotype(flag)})"
        self.check(res, sub, zero_kind, with_flag(base, flag, [flag.name, zero]), zero_line(sub, base, flag, name))
        if flag.value == "id":  # types.ID reads a word that is no number as 0
            self.check(res, sub, zero_kind, with_flag(base, flag, [flag.name, "abc"]), zero_line(sub, base, flag, name))
        if flag.name in base:
            absent = without_flag(base, flag)
            expected = None if sub.defaulted(flag.field) else absent_line(sub, absent, flag, name)
            self.check(res, sub, f"absent ({_gotype(flag)})", absent, expected, complete=False)  # a default passes
        for rule, param in own:
            kind = f"{rule} ({_gotype(flag)})"
            if rule == "oneof":
                self.oneof(res, sub, base, flag, name, param, kind)
            elif rule in ("min", "max", "gt"):
                self.bound(res, sub, base, flag, name, rule, int(param), kind, rules, dive)
            elif rule == "unique":
                element = element_value(rules[dive + 1 :] if dive is not None else [])
                self.check(
                    res, sub, kind, with_flag(base, flag, [flag.name, f"{element},{element}"]), [f"{name}: unique"]
                )
            elif rule in FORMATS:
                good, bad = FORMATS[rule]
                for value in good:
                    self.check(res, sub, kind, with_flag(base, flag, [flag.name, value]), None)
                for value in bad:
                    self.check(res, sub, kind, with_flag(base, flag, [flag.name, value]), [f"{name}: {rule}"])
            elif rule == "file":
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, FILE]), None)
                line = f"{name}: invalid file path: no-such-file.txt"
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, "no-such-file.txt"]), [line])
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, "."]), [f"{name}: invalid file path: ."])
            elif rule == "excludesrune":
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, "a:b"]), [f"{name}: excludesrune={param}"])
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, "a-b"]), None)
            elif rule in ("required_with", "required_without"):
                self.conditional(res, sub, base, flag, name, rule, param)
        if dive is not None:
            self.elements(res, sub, base, flag, rules[dive + 1 :], f"dive ({_gotype(flag)})")

    def check(self, res, sub, kind, argv, lines, complete: bool = True) -> None:
        """A mutant whose other flags are completed (partners a rule needs), with the struct tags and the
        subcommand's own Validate applied (it runs only when the rules pass)."""
        argv = self.complete(sub, argv) if complete else argv
        structs = STRUCTS.get((res.name, sub.name), {})
        if any(tag == "omitempty,dive" and struct_set(sub, argv, s) for s, tag in structs.items()):
            lines = [DIVE_PANIC]  # the validator panics on such a struct before it reports anything
        elif lines:
            lines = [line for line in lines if not skipped_struct(sub, argv, structs, line)] or None
        if not lines:
            lines = custom_lines(res, sub, argv) or service_lines(res, sub, argv)
        self.add(kind, argv, lines)

    @staticmethod
    def complete(sub, argv: list[str]) -> list[str]:
        """Give each flag whose ``required_with`` partner is set a value of its own (and accept Let's
        Encrypt's terms with Let's Encrypt on, as proxy-lb's own rule wants)."""
        enabled = [w for w in argv if w.startswith("--lets-encrypt-enabled")]
        if enabled and enabled[-1] in ("--lets-encrypt-enabled", "--lets-encrypt-enabled=true"):
            argv = [*argv, "--lets-encrypt-accept-tos"] if "--lets-encrypt-accept-tos" not in argv else argv
        for flag in sub.flags:
            for rule, param in rules_of(flag):
                partner = partner_of(sub, flag, param) if rule == "required_with" else None
                if partner is not None and is_set(argv, partner) and flag.name not in argv:
                    argv = with_flag(argv, flag, [flag.name, inside(flag)])
        return argv

    def oneof(self, res, sub, base, flag, name, param, kind) -> None:
        options = param.split()
        if is_list(flag):
            return  # a list of allowed values is checked element by element (dive)
        for value in dict.fromkeys((options[0], options[-1])):
            self.check(res, sub, kind, with_flag(base, flag, [flag.name, value]), None)
        line = [f"{name}: oneof={param}"]
        if flag.value == "int":
            numbers = {int(o) for o in options}
            beyond = next(n for n in range(max(numbers) + 1, max(numbers) + 1000) if n not in numbers)
            between = next((n for n in range(min(numbers) + 1, max(numbers)) if n not in numbers), None)
            self.check(res, sub, kind, with_flag(base, flag, [flag.name, str(beyond)]), line)
            if between is not None:
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, str(between)]), line)
            octal = next((o for o in options if len(o) > 1 and set(o) <= set("01234567") and o[0] != "0"), None)
            if octal is not None:  # pflag reads a leading 0 as octal
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, "0" + octal]), line)
            return
        upper = options[0].upper() if options[0].upper() != options[0] else options[0].lower()
        self.check(res, sub, kind, with_flag(base, flag, [flag.name, upper if upper not in options else "bogus"]), line)
        self.check(res, sub, kind, with_flag(base, flag, [flag.name, options[0] + "x"]), line)

    def bound(self, res, sub, base, flag, name, rule, n, kind, rules, dive) -> None:
        line = [f"{name}: {rule}={n}"]
        if is_list(flag):
            distinct = distinct_elements(rules[dive + 1 :] if dive is not None else [], n + 2)
            if distinct is None:
                return
            if rule == "max":
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, ",".join(distinct[:n])]), None)
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, ",".join(distinct[: n + 1])]), line)
                split = [w for v in distinct[: n + 1] for w in (flag.name, v)]  # repeated flags add up
                self.check(res, sub, f"{kind}, repeated flag", with_flag(base, flag, split), line)
            elif rule == "min":
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, ",".join(distinct[:n])]), None)
                if n > 1:
                    self.check(res, sub, kind, with_flag(base, flag, [flag.name, ",".join(distinct[: n - 1])]), line)
            return
        if flag.value == "string":
            if rule == "max":
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, "é" * n]), None)  # runes, not bytes
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, "é" * (n + 1)]), line)
            elif rule == "min":
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, "a" * n]), None)
                if n > 1:
                    self.check(res, sub, kind, with_flag(base, flag, [flag.name, "a" * (n - 1)]), line)
            return
        edge, beyond = (n, n - 1) if rule == "min" else (n, n + 1) if rule == "max" else (n + 1, n)
        for value, fails in ((edge, False), (beyond, True)):
            if value == 0:
                continue  # the zero value has its own mutant
            self.check(res, sub, kind, with_flag(base, flag, [flag.name, str(value)]), line if fails else None)

    def elements(self, res, sub, base, flag, after, kind_prefix) -> None:
        """``dive``: the rules after it apply to each element; the second one is made to fail."""
        leaf = "--" + kebab(flag.field.rpartition(".")[2])
        good = element_value(after)
        before = dict(rules_of(flag)[: [n for n, _ in rules_of(flag)].index("dive")])
        if int(before.get("max", 99)) < 2:
            return  # one element at most: no second element to spoil
        second = distinct_elements(after, 2)
        for rule, param in after:
            kind = f"{kind_prefix} {rule}"
            if rule == "max" and not any(r == "oneof" for r, _ in after):
                n = int(param)
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, f"{good},{'t' * n}"]), None)
                bad = [f"{leaf}[1]: max={n}"]
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, f"{good},{'t' * (n + 1)}"]), bad)
            elif rule == "oneof":
                options = param.split()
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, f"{options[1]},{options[2]}"]), None)
                bad = f"{options[1]},{options[2][:-1]}x"
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, bad]), [f"{leaf}[1]: oneof={param}"])
            elif rule in FORMATS:
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, ",".join(second)]), None)
                bad = f"{good},{FORMATS[rule][1][0]}"
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, bad]), [f"{leaf}[1]: {rule}"])
            elif rule in ("gt", "required"):
                line = f"{leaf}[1]: gt={param}" if rule == "gt" else f"{leaf}[1]: required"
                self.check(res, sub, kind, with_flag(base, flag, [flag.name, f"{good},"]), [line])

    def conditional(self, res, sub, base, flag, name, rule, param) -> None:
        partner = partner_of(sub, flag, param)
        if partner is None:
            return
        kind = f"{rule} ({_gotype(flag)})"
        rest = without_flag(without_flag(base, flag), partner)
        if rule == "required_with":
            trigger = [partner.name] + ([] if partner.value == "bool" else [inside(partner)])
            alone = with_flag(rest, partner, trigger)
            skipped = pointer(flag) and rules_of(flag)[0][0] == "omitempty"  # a nil pointer stops there
            skipped |= sub.defaulted(flag.field)  # usacloud gives it a value in code
            self.add(kind, alone, None if skipped else [f"{name}: {rule}={param}"])  # not completed
            self.check(res, sub, kind, with_flag(alone, flag, [flag.name, inside(flag)]), None)
        else:
            lines = [f"{name}: {rule}={param}"]
            partner_tag = partner.validate or ""
            if partner_tag.startswith("required_without="):
                lines.append(f"{partner.name}: {partner_tag.split(',')[0]}")
            self.add(kind, rest, lines)
            given = with_flag(rest, partner, [partner.name, inside(partner)])
            self.check(res, sub, kind, given, zero_line(sub, given, flag, name))

    # -- values as pflag parses them ----------------------------------------------------------------
    def pflag(self) -> None:
        create = ["iaas", "server", "create", "-y", "--name", "x"]
        invalid = 'Error: invalid argument "{v}" for "--cpu" flag: strconv.ParseInt: parsing "{v}": {why}'
        for value, why in (("abc", "invalid syntax"), ("", "invalid syntax"), ("1.5", "invalid syntax")):
            self.add("pflag int", [*create, "--cpu", value], [invalid.format(v=value, why=why)])
        self.add(
            "pflag int",
            [*create, "--cpu", "99999999999999999999"],
            [invalid.format(v="99999999999999999999", why="value out of range")],
        )
        for value in ("0x2", "0o2", "02", "0b10", "1_0", "+2"):
            self.add("pflag int", [*create, "--cpu", value], None)
        self.add("pflag int", [*create, "--cpu=-1"], None)  # usacloud requires non-zero only
        bool_error = (
            'Error: invalid argument "{v}" for "-y, --assumeyes" flag: strconv.ParseBool: parsing "{v}": invalid syntax'
        )
        for value in ("yes", "", "on"):
            self.add(
                "pflag bool",
                ["iaas", "switch", "create", f"--assumeyes={value}", "--name", "x"],
                [bool_error.format(v=value)],
            )
        for value in ("1", "T", "TRUE", "true", "True", "t"):
            self.add("pflag bool", ["iaas", "switch", "create", f"-y={value}", "--name", "x"], None)
        switch = ["iaas", "switch", "create", "-y", "--name", "x"]
        self.add("pflag csv", [*switch, "--tags", '"a,b",c'], None)
        self.add("pflag csv", [*switch, "--tags", "a,a"], ["--tags: unique"])
        self.add("pflag csv", [*switch, "--tags", "a", "--tags", "a"], ["--tags: unique"])
        self.add("pflag csv", [*switch, "--tags", '"a,a",a'], None)
        csv_error = 'Error: invalid argument "{v}" for "--tags" flag: {why}'
        for value, why in (
            ('a"b', 'parse error on line 1, column 2: bare " in non-quoted-field'),
            ('"a', 'parse error on line 1, column 3: extraneous or missing " in quoted-field'),
            ('"a"b', 'parse error on line 1, column 3: extraneous or missing " in quoted-field'),
            ('é"', 'parse error on line 1, column 3: bare " in non-quoted-field'),
            ('"""""""', 'parse error on line 1, column 8: extraneous or missing " in quoted-field'),
            ('a,"b\nc"d', 'record on line 1; parse error on line 2, column 2: extraneous or missing " in quoted-field'),
        ):
            quoted = value.replace('"', '\\"').replace("\n", "\\n")
            self.add("pflag csv", [*switch, "--tags", value], [csv_error.format(v=quoted, why=why)])
        self.add("pflag csv", [*switch, "--tags", ",".join(f"t{i}" for i in range(10))], None)
        self.add("pflag csv", [*switch, "--tags", "t0,t1,t2,t3,t4", "--tags", "t5,t6,t7,t8,t9,t10"], ["--tags: max=10"])
        self.add("pflag id", ["iaas", "switch", "read", "abc"], None)  # a target, not an ID flag
        self.add("pflag id", ["iaas", "server", "create", "-y", "--name", "x", "--cdrom-id", "abc"], None)
        self.add(
            "pflag id",
            ["iaas", "database", "create", "-y", *_database(), "--switch-id", "0x10"],
            ["--switch-id: required"],
        )

    # -- the subcommands' own Validate functions ----------------------------------------------------
    def custom(self) -> None:
        conflict = "--source-file & --source-archive-id & --source-disk-id: only one of them can be specified"
        archive = ["iaas", "archive", "create", "-y", "--name", "a"]
        self.add("custom conflict", [*archive, "--source-archive-id", ID, "--source-disk-id", ID], [conflict])
        self.add("custom conflict", [*archive, "--source-archive-id", ID], None)
        self.add(
            "custom conflict", [*archive, "--source-archive-id", "abc", "--source-disk-id", ID], None
        )  # ID 0 is empty
        disk = ["iaas", "disk", "create", "-y", "--name", "d"]
        line = "--os-type & --source-archive-id & --source-disk-id: only one of them can be specified"
        self.add("custom conflict", [*disk, "--os-type", "ubuntu", "--source-disk-id", ID], [line])
        self.add("custom conflict", [*disk, "--os-type", "ubuntu"], None)
        server = ["iaas", "server", "create", "-y", "--name", "s"]
        nic = "--network-interface & --network-interfaces: only one of them can be specified"
        self.add(
            "custom conflict", [*server, "--network-interface-upstream", "shared", "--network-interfaces", "[]"], [nic]
        )
        disks = "--disk & --disks & --disk-ids: only one of them can be specified"
        self.add("custom conflict", [*server, "--disk-size", "20", "--disk-ids", ID], [disks])
        self.add(
            "custom conflict", [*server, "--disk-size", "20", "--disks", "[]"], None
        )  # --disks counts once decoded
        upstream = 'upstream require to be "shared" or "disconnected" or SwitchID. value:{v}'
        self.add("custom upstream", [*server, "--network-interface-upstream", "sw1"], [upstream.format(v="sw1")])
        for value in ("shared", "disconnected", ID):
            self.add("custom upstream", [*server, "--network-interface-upstream", value], None)
        self.add(
            "custom ssh key",
            [*server, "--disk-edit-ssh-keys", "ssh-ed25519 AAAA"],
            ["--SSHKey: must be in a valid format"],
        )
        self.add("custom ssh key", [*server, "--disk-edit-ssh-keys", PUBLIC_KEY], None)
        key = ["ssh-key", "create", "-y", "--name", "k", "--public-key"]
        self.add("custom ssh key", [*key, PUBLIC_KEY], None)
        self.add(
            "custom ssh key",
            [*key, PUBLIC_KEY.replace("AAAAC3", "AAAAC4")],
            ["--public-key: must be in a valid format"],
        )
        self.add("custom ssh key", [*key, FILE], ["--public-key: must be in a valid format"])
        self.add("custom ssh key", [*key, "id.pub"], None, files={"id.pub": PUBLIC_KEY + " ci@example\n"})
        params = ["iaas", "database", "create", "-y", *_database(), "--database-parameters"]
        self.add("custom key=value", [*params, "max_connections=100"], None)
        line = "--database-parameters: must be in a format like 'key=value': max-connections=100"
        self.add("custom key=value", [*params, "max-connections=100"], [line])
        lb = ["iaas", "load-balancer", "create", "-y", "--name", "l", "--switch-id", ID, "--netmask", "24"]
        one = "--ip-addresses: for the standard plan, specify only one IP address"
        two = "--ip-addresses: for the highspec plan, specify two IP addresses"
        self.add("custom plan", [*lb, "--ip-address", "192.168.0.1"], None)
        self.add("custom plan", [*lb, "--ip-address", "192.168.0.1,192.168.0.2"], [one])
        self.add("custom plan", [*lb, "--plan", "highspec", "--ip-address", "192.168.0.1"], [two])
        self.add("custom plan", [*lb, "--plan", "highspec", "--ip-address", "192.168.0.1,192.168.0.2"], None)
        tos = "--lets-encrypt-accept-tos: required when --lets-encrypt-enabled=true"
        plb = ["proxy-lb", "create", "-y", "--name", "p"]
        self.add("custom terms", [*plb, "--lets-encrypt-enabled"], [tos])
        self.add("custom terms", [*plb, "--lets-encrypt-enabled", "--lets-encrypt-accept-tos"], None)
        self.add("custom terms", ["proxy-lb", "update", "-y", ID, "--lets-encrypt-enabled=true"], [tos])
        self.add("custom terms", ["proxy-lb", "update", "-y", ID, "--lets-encrypt-enabled=false"], None)
        self.add("custom profile name", ["config", "create"], ["--name or name argument required"])
        self.add("custom profile name", ["config", "create", "--name", "ci"], None)
        self.add("custom profile name", ["config", "edit", "a:b"], ["--name: excludesrune=:"])
        records = ["dns", "create", "-y", "--name", "example.com", "--records"]
        self.add("custom json list", [*records, "[]"], None)
        self.add("custom json list", [*records, '[{"Name": "www", "Type": "A", "RData": "192.0.2.1"}]'], None)
        self.add("custom json list", [*records, "records.json"], None, files={"records.json": "[]\n"})
        self.add("custom json list", [*records, "bogus"], ["invalid character 'b' looking for beginning of value"])
        self.add(
            "custom json list",
            [*records, "{}"],
            ["json: cannot unmarshal object into Go value of type iaas.DNSRecords"],
        )
        # Go's words for an element depend on the Go release usacloud was built with (1.27 names the path)
        self.add("custom json list", [*records, "[1]"], [ELEMENT_ERROR], words_vary=True)
        nics = ["iaas", "server", "create", "-y", "--name", "s", "--network-interfaces"]
        self.add(
            "custom json list",
            [*nics, '{"Upstream": "shared"}'],
            ["json: cannot unmarshal object into Go value of type []*server.NetworkInterface"],
        )

    def service(self) -> None:
        """What iaas-service-go refuses once usacloud's own checks passed, and the same lines made whole."""
        archive = ["iaas", "archive", "create", "-y", "--name", "a"]
        self.add("service", archive, [ARCHIVE_SOURCE])
        self.add("service", [*archive, "--size", "20", "--no-wait"], [ARCHIVE_SOURCE])
        self.add("service", [*archive, "--source-disk-id", ID], None)
        self.add("service", [*archive, "--source-file", FILE, "--size", "20", "--no-wait"], [ARCHIVE_NO_WAIT])
        self.add("service", [*archive, "--source-file", FILE, "--size", "20"], None)
        internet = ["iaas", "internet", "create", "-y", "--name", "i", "--enable-ipv6"]
        self.add("service", [*internet, "--no-wait"], [INTERNET_NO_WAIT])
        self.add("service", internet, None)
        self.add("service", [*internet, "--no-wait", "--enable-ipv6=false"], None)
        database = ["iaas", "database", "create", "-y", *_database(), "--enable-backup", "--backup-weekdays", "mon"]
        self.add("service", database, [DATABASE_REPLICA])
        self.add("service", [*database, "--replica-user-password", "r"], None)
        mgw = ["iaas", "mobile-gateway", "create", "-y", "--name", "m"]
        nic = ["--private-interface-ip-address", "192.168.0.1"]
        switch = ["--private-interface-switch-id", ID]
        self.add("service", [*mgw, *nic], [MGW_SWITCH])
        self.add("service", [*mgw, *nic, *switch], [MGW_MASK])
        self.add(
            "service", [*mgw, *nic, *switch, "--private-interface-network-mask-len", "24", "--no-wait"], [MGW_NO_WAIT]
        )
        self.add("service", [*mgw, "--no-wait", "--dns1", "192.0.2.1", "--dns2", "192.0.2.2"], [MGW_NO_WAIT])
        self.add("service", [*mgw, "--no-wait", "--traffic-config-traffic-quota-in-mb", "10"], [MGW_NO_WAIT])
        self.add("service", [*mgw, "--no-wait", "--internet-connection-enabled"], None)
        server = ["iaas", "server", "create", "-y", "--name", "s"]
        nics = '[{"Upstream": "disconnected"}, {"Upstream": "shared"}]'
        self.add("service", [*server, "--network-interfaces", nics], [SERVER_SHARED])
        self.add(
            "service", [*server, "--network-interfaces", '[{"Upstream": "shared"}, {"Upstream": "disconnected"}]'], None
        )
        self.add("service", [*server, "--no-wait", "--boot-after-create"], [SERVER_BOOT])
        self.add("service", [*server, "--no-wait"], None)
        disk = ["--disk-size", "20", "--disk-os-type", "ubuntu"]
        self.add("service", [*server, "--no-wait", *disk], [SERVER_DISKS])
        self.add("service", [*server, "--no-wait", *disk, "--disk-no-wait"], None)
        self.add("service", [*server, "--no-wait", "--disks", '[{"SizeGB": 20}]'], [SERVER_DISKS])
        self.add("service", [*server, "--no-wait", "--disks", '[{"SizeGB": 20, "NoWait": true}]'], None)
        vpc = ["iaas", "vpc-router", "create", "-y", "--name", "v", "--public-network-interface-switch-id", ID]
        self.add("service", [*vpc, "--no-wait"], [VPC_NO_WAIT])
        self.add("service", ["iaas", "vpc-router", "create-standard", "-y", "--name", "v", "--no-wait"], [VPC_NO_WAIT])

    # -- --parameters JSON ----------------------------------------------------------------------------
    def parameters(self) -> None:
        create = ["iaas", "server", "create", "-y", "--parameters"]
        good = {"Zone": "tk1v", "Name": "p"}
        self.add("parameters", [*create, json.dumps(good)], None)
        self.add("parameters", [*create, json.dumps({**good, "cpu": 0})], ["--cpu: required"])
        self.add("parameters", [*create, json.dumps({**good, "Tags": ["a", "a"]})], ["--tags: unique"])
        self.add("parameters", [*create, json.dumps({**good, "tags": ["t" * 33]})], ["--tags[0]: max=32"])
        self.add("parameters", [*create, json.dumps({**good, "Deſcription": "é" * 513})], ["--description: max=512"])
        self.add(
            "parameters",
            [*create, json.dumps({**good, "Commitment": "bogus"})],
            ["--commitment: oneof=standard dedicatedcpu"],
        )
        # the flag overrides the JSON for a plain field
        self.add("parameters", [*create, json.dumps({**good, "Commitment": "bogus"}), "--commitment", "standard"], None)
        update = ["iaas", "server", "update", "-y", ID, "--parameters"]
        # a pointer field's flag is lost when --parameters is given: the JSON's value counts
        self.add(
            "parameters",
            [*update, json.dumps({"Zone": "tk1v", "Description": "é" * 513}), "--description", "ok"],
            ["--description: max=512"],
        )
        self.add("parameters", [*update, json.dumps({"Zone": "tk1v"}), "--description", "é" * 513], None)


#: Tags of struct fields (not in the command table, read from usacloud's source): "omitempty" skips an
#: all-zero struct, "omitempty,dive" panics on a struct that is not all zero.
STRUCTS = STRUCT_TAGS
ELEMENT_ERROR = "json: cannot unmarshal number into Go value of type iaas.DNSRecord"
DIVE_PANIC = "panic: dive error! can't dive on a non slice or map"


def struct_set(sub, argv: list[str], struct: str) -> bool:
    """Whether ``argv`` makes the struct non-zero: one of its flags set (a pointer even to "" or 0)."""
    return any(is_set(argv, f) for f in sub.flags if f.field.startswith(struct + "."))


def skipped_struct(sub, argv: list[str], structs: dict, line: str) -> bool:
    """Whether ``line`` is about a field of an all-zero struct tagged omitempty (never looked into)."""
    flag = next((f for f in sub.flags if line.startswith(f.name + ":")), None)
    if flag is None:
        return False
    return any(
        flag.field.startswith(s + ".") and t == "omitempty" and not struct_set(sub, argv, s) for s, t in structs.items()
    )


ARCHIVE_SOURCE = "SourceDiskID or SourceArchiveID is required"
ARCHIVE_NO_WAIT = "NoWait=true is not supported when uploading files and creating archives"
INTERNET_NO_WAIT = "NoWait=true is not supported when EnableIPv6=true"
#: printed over three lines (a multierror); held with its whitespace folded, as the check words it
DATABASE_REPLICA = "1 error occurred: * ReplicaUserPassword: required_with=EnableReplication"
MGW_SWITCH = "switch id is required when specified private interface"
MGW_MASK = "ip address is required when specified private interface"
MGW_NO_WAIT = "NoWait=true is not supported with PrivateInterface/StaticRoutes/SIMRoutes/DNS/SIMs/TrafficConfig"
SERVER_SHARED = "upstream=shared is not supported for additional NICs"
SERVER_DISKS = "NoWait=true is not supported if the disks contain NoWait=false"
SERVER_BOOT = "NoWait=true is not supported with BootAfterCreate=true"
VPC_NO_WAIT = "NoWait=true is not supported with AdditionalNICSettings and RouterSetting"
SERVICE_LINES = frozenset(
    {ARCHIVE_SOURCE, ARCHIVE_NO_WAIT, INTERNET_NO_WAIT, DATABASE_REPLICA, MGW_SWITCH, MGW_MASK, MGW_NO_WAIT}
    | {SERVER_SHARED, SERVER_DISKS, SERVER_BOOT, VPC_NO_WAIT}
)


def _written(sub, argv: list[str]) -> dict[str, str]:
    """Each of ``sub``'s flags as ``argv`` writes it last: its value (a bare switch: "true")."""
    by_name = {name: flag for flag in sub.flags for name in flag.names}
    values, i = {}, 0
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        flag = by_name.get(name) if name.startswith("-") else None
        if flag is not None and (eq or not flag.takes_value):
            values[flag.name] = value if eq else "true"
        elif flag is not None and i + 1 < len(argv):
            values[flag.name], i = argv[i + 1], i + 1
        i += 1
    return values


def service_lines(res, sub, argv: list[str]) -> list[str] | None:
    """iaas-service-go's refusal of a line usacloud's own checks pass (its request and builder
    Validate, read from its source), as usacloud prints it; ``Mutants.service`` has each rule by hand."""
    written = _written(sub, argv)
    fields = {flag.name: flag.field for flag in sub.flags}

    def on(name: str) -> bool:
        return written.get(name, "false") in GO_TRUE

    def given(name: str) -> bool:  # a non-zero value (an ID that is no number is 0)
        value = written.get(name, "")
        return on(name) if value in GO_BOOLS else value.strip("0") not in ("", "abc")

    def struct(prefix: str) -> bool:
        return any(given(name) for name, field in fields.items() if field.startswith(prefix + "."))

    def listed(name: str) -> list:
        try:
            items = json.loads(written.get(name) or "[]")
        except ValueError:
            return []
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

    if on("--example") or on("--generate-skeleton"):
        return None  # usacloud prints them and exits
    nowait = on("--no-wait")
    command = (res.name, sub.name)
    refusals = {
        ("archive", "create"): [
            (given("--source-file") and nowait, ARCHIVE_NO_WAIT),
            (not any(given(f) for f in ("--source-file", "--source-disk-id", "--source-archive-id")), ARCHIVE_SOURCE),
        ],
        ("database", "create"): [(on("--enable-backup") and not given("--replica-user-password"), DATABASE_REPLICA)],
        ("internet", "create"): [(on("--enable-ipv6") and nowait, INTERNET_NO_WAIT)],
        ("vpc-router", "create"): [(nowait and struct("PublicNetworkInterface"), VPC_NO_WAIT)],
        ("vpc-router", "create-standard"): [(nowait, VPC_NO_WAIT)],
    }.get(command, [])
    if command == ("mobile-gateway", "create"):
        private = struct("PrivateInterface")
        refusals = [
            (private and not given("--private-interface-switch-id"), MGW_SWITCH),
            (private and not given("--private-interface-network-mask-len"), MGW_MASK),
            (nowait and (private or struct("DNS") or struct("TrafficConfig")), MGW_NO_WAIT),
        ]
    if command == ("server", "create"):
        nics = listed("--network-interfaces")
        nics = (
            [{"Upstream": written.get("--network-interface-upstream")}] if struct("NetworkInterface") else []
        ) + nics
        disks = ([{"NoWait": on("--disk-no-wait")}] if struct("Disk") else []) + listed("--disks")
        refusals = [
            (any(nic.get("Upstream") == "shared" for nic in nics[1:]), SERVER_SHARED),
            (nowait and any(d.get("NoWait") is not True for d in disks), SERVER_DISKS),
            (nowait and on("--boot-after-create"), SERVER_BOOT),
        ]
    return next(([line] for refused, line in refusals if refused), None)


def custom_skips_rules(res, sub) -> bool:
    return (res.name, sub.name) == ("config", "create")


def partner_of(sub, flag, field_name: str):
    parent = flag.field.rpartition(".")[0]
    path = f"{parent}.{field_name}" if parent else field_name
    return next((f for f in sub.flags if f.field == path), None)


def is_set(argv: list[str], flag) -> bool:
    """Whether ``argv`` gives ``flag`` a non-zero value (a bare switch is true)."""
    if flag.name not in argv:
        return False
    if flag.value == "bool" or pointer(flag):  # a set pointer has a value, even "" or 0
        return True
    i = argv.index(flag.name)
    return i + 1 < len(argv) and argv[i + 1] not in ("", "0")


def zero_line(sub, argv, flag, name) -> list[str] | None:
    """What the zero value ("" or 0; "" is an empty, non-nil list) fails on, walking the tag as the
    validator does: a set pointer and a non-nil list have a value, a plain zero stops at omitempty."""
    has_value = pointer(flag) or is_list(flag)
    for rule, param in rules_of(flag):
        if rule == "omitempty" and not has_value:
            return None
        if rule in ("required", "required_with", "required_without"):
            partner = partner_of(sub, flag, param) if param else None
            triggered = rule == "required" or (
                partner is not None and is_set(argv, partner) == (rule == "required_with")
            )
            if triggered and not has_value:
                lines = [f"{name}: {rule}" + (f"={param}" if param else "")]
                mutual = partner is not None and (partner.validate or "").startswith("required_without=")
                if rule == "required_without" and mutual and not is_set(argv, partner):
                    lines.append(f"{partner.name}: {(partner.validate or '').split(',')[0]}")
                return lines
        elif rule == "dive":
            return None
        elif rule == "oneof" and not is_list(flag):
            if ("0" if flag.value in ("int", "id") else "") not in param.split():
                return [f"{name}: oneof={param}"]
        elif rule in ("min", "gt") and int(param) >= (1 if rule == "min" else 0):
            return [f"{name}: {rule}={param}"]
        elif rule in FORMATS:
            return [f"{name}: {rule}"]
        elif rule == "file":
            return [f"{name}: invalid file path: "]
    return None


def absent_line(sub, argv, flag, name) -> list[str] | None:
    """What leaving the flag out fails on: nil for a pointer or a list, the zero value otherwise."""
    if flag.value == "bool":
        return None
    if not (pointer(flag) or is_list(flag)):
        return zero_line(sub, argv, flag, name)
    first = next(iter(rules_of(flag)), ("", ""))
    if first[0] in ("required_without", "required_with"):
        return zero_line(sub, argv, flag, name) if not is_list(flag) else None
    return [f"{name}: required"] if first[0] == "required" else None


def distinct_elements(after: list[tuple[str, str]], count: int) -> list[str] | None:
    """``count`` different elements that pass the rules after ``dive`` (None: not that many exist)."""
    rules = dict(after)
    if "oneof" in rules:
        options = rules["oneof"].split()
        return options[:count] if len(options) >= count else None
    if any(r in FORMATS for r in rules):
        kind = next(r for r in rules if r in FORMATS)
        samples = {"ipv4": "192.168.1.{}", "cidrv4": "10.{}.0.0/16", "fqdn": "h{}.example.com"}
        samples |= {"ipv6": "2001:db8::{}", "mac": "00:11:22:33:44:{:02x}"}
        return [samples[kind].format(i + 1) for i in range(count)]
    return [f"v{i}" for i in range(count)]


def custom_lines(res, sub, argv: list[str]) -> list[str] | None:
    """load-balancer create's own rule, which mutants of its --ip-address and --plan meet."""
    if (res.name, sub.name) != ("load-balancer", "create") or "--ip-address" not in argv:
        return None
    count = len(argv[argv.index("--ip-address") + 1].split(","))
    plan = argv[argv.index("--plan") + 1] if "--plan" in argv else "standard"
    if plan == "standard" and count != 1:
        return ["--ip-addresses: for the standard plan, specify only one IP address"]
    if plan != "standard" and count != 2:
        return ["--ip-addresses: for the highspec plan, specify two IP addresses"]
    return None


def _database() -> list[str]:
    return [
        "--name",
        "db",
        "--database-type",
        "postgres",
        "--plan",
        "10g",
        "--switch-id",
        ID,
        "--ip-address",
        "192.168.0.10",
        "--netmask",
        "24",
        "--username",
        "u",
        "--password",
        "p",
    ]


def _gotype(flag) -> str:
    return flag.go_type or flag.value


def _kind(rules: list[tuple[str, str]]) -> str:
    return "+".join(n for n, _ in rules if n not in ("omitempty",)) or "none"


def generate() -> list[dict]:
    mutants = Mutants()
    shared_seen: dict[tuple[str, str], int] = {}
    for res in all_resources():
        for sub in res.subcommands:
            for flag in sub.flags:
                if not flag.validate or not flag.field or flag.name == "--zone":
                    continue
                if res.name == "rest" and flag.name in ("--data", "--method"):
                    continue  # rest goes to the network after validating, even in fake mode
                if flag.name in SHARED or flag.validate in ("omitempty,tags", "omitempty,description"):
                    key = (flag.name, flag.go_type or "")
                    shared_seen[key] = shared_seen.get(key, 0) + 1
                    if shared_seen[key] > SHARED_SAMPLE:
                        continue
                mutants.flag(res, sub, flag)
    mutants.pflag()
    mutants.custom()
    mutants.service()
    mutants.parameters()
    return mutants.lines


# -- the real usacloud as the judge ---------------------------------------------------------------------
REAL_TIMEOUT = 10.0
REAL_ATTEMPTS = 8
REAL_JUDGE = "real usacloud 1.22.8"
#: Go's JSON decoding errors, which usacloud prints when a JSON flag does not decode (before any API call).
JSON_ERROR = re.compile(r"invalid character |unexpected end of JSON input|json: |got invalid pathOrContent")


def real_env(home: Path, store: Path | None) -> dict[str, str]:
    """Fake mode, dummy keys, the sandbox zone only, an empty home; a seeded fake store when given."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "SAKURACLOUD_FAKE_MODE": "1"}
    env |= {"SAKURACLOUD_ACCESS_TOKEN": "dummy-token", "SAKURACLOUD_ACCESS_TOKEN_SECRET": "dummy-secret"}
    env |= {"SAKURACLOUD_ZONE": "tk1v", "SAKURACLOUD_ZONES": "tk1v", "USACLOUD_NO_VERSION_CHECK": "1"}
    if store is not None:
        env["SAKURACLOUD_FAKE_STORE_PATH"] = str(store)
    return env


def run_real(
    binary: str, argv: list[str], workdir: Path, store: Path | None = None, timeout: float = REAL_TIMEOUT
) -> tuple[int | str, str]:
    """(exit status or "timeout", stderr) of the real usacloud in a network namespace with no network."""
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"{binary} is not an executable file (any more)")
    proc = subprocess.Popen(
        ["unshare", "-n", binary, *argv],
        cwd=workdir,
        env=real_env(home, store),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "timeout", ""
    if proc.returncode in (126, 127):  # unshare could not start it: no verdict at all
        raise RuntimeError(f"{binary} could not be run: {err.decode('utf-8', 'replace').strip()}")
    return proc.returncode, err.decode("utf-8", "replace")


def real_verdict(rc: int | str, stderr: str) -> tuple[str, list[str]]:
    """("rejected", usacloud's lines) when usacloud refused the command line before any API call:
    pflag/cobra (`Error: ...`), validation (`validation error:` and a tab-indented line per field), a
    subcommand's own plain check or its service's (whitespace folded); otherwise "accepted" (it ran,
    or failed later, or was still running)."""
    if rc == 1 and stderr.startswith("Error: "):
        return "rejected", [stderr.splitlines()[0]]
    if rc == 2 and stderr.startswith(DIVE_PANIC):
        return "rejected", [DIVE_PANIC]
    text = stderr.strip("\n")
    if rc == 1 and text.startswith("validation error:"):
        return "rejected", sorted(line.strip() for line in text.splitlines()[1:] if line.startswith("\t"))
    if rc == 1 and (text in ("--name or name argument required",) or JSON_ERROR.match(text)):
        return "rejected", [text.splitlines()[0]]
    if rc == 1 and " ".join(text.split()) in SERVICE_LINES:
        return "rejected", [" ".join(text.split())]
    return "accepted", []


def seed_store(binary: str, workdir: Path) -> Path:
    """A fake store seeded once (its catalogue costs seconds of CPU): each line runs on a copy, where
    usacloud's changing commands seldom hang (without a store about one in three does)."""
    store = workdir / "seed.json"
    run_real(binary, ["zone", "list", "-q"], workdir, store, timeout=120)
    return store


def confirm(binary: str, records: list[dict], workers: int = 2) -> list[tuple[dict, str, list[str], str]]:
    """Run each record through ``binary``: (record, verdict, lines, note)."""
    with tempfile.TemporaryDirectory(prefix="mutants-real-") as tmp:
        version = subprocess.run(["unshare", "-n", binary, "version"], capture_output=True, text=True, check=False)
        if not version.stdout.startswith("1.22.8 "):
            raise RuntimeError(f"{binary} is not usacloud 1.22.8: {version.stdout.strip() or version.stderr.strip()}")
        seed = seed_store(binary, Path(tmp))

        def one(record: dict):
            with tempfile.TemporaryDirectory(dir=tmp) as name:
                workdir = Path(name)
                for file, text in {**FILES, **(record.get("files") or {})}.items():
                    (workdir / file).write_text(text, encoding="utf-8")
                store = workdir / "store.json"
                # a hang is no verdict: where the rule expects a refusal, run it again (some accepted
                # lines, such as mobile-gateway create in fake mode, hang every time)
                for _ in range(REAL_ATTEMPTS if record["expected"] == "rejected" else 1):
                    if seed.exists():
                        shutil.copyfile(seed, store)
                    rc, err = run_real(binary, record["argv"], workdir, store if seed.exists() else None)
                    if rc != "timeout":
                        break
                verdict, lines = real_verdict(rc, err)
                return record, verdict, lines, "timeout" if rc == "timeout" else f"rc {rc}"

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(one, records))


def main(argv: list[str]) -> int:
    args = list(argv[1:])
    binary = None
    if args[:1] == ["--confirm-with"]:
        binary, args = args[1], args[2:]
    output = Path(args[0]) if args else OUTPUT
    lines = generate()
    if binary is not None:
        if subprocess.run(["unshare", "-n", "true"], check=False).returncode != 0:
            print("the real usacloud runs only in a network namespace with no network: unshare -n failed")
            return 1
        disagree = 0
        for record, verdict, got, note in confirm(binary, lines):
            if record.get("words_vary") and verdict == record["expected"]:
                got = record["lines"]  # the verdict is the point: the words depend on Go's release
            if verdict != record["expected"] or (verdict == "rejected" and got != record["lines"]):
                disagree += 1
                print(f"{record['id']}: rule {record['expected']} {record['lines']}, usacloud {verdict} {got} ({note})")
            record["expected"], record["lines"], record["expected_by"] = verdict, got, REAL_JUDGE
        print(f"{disagree} of {len(lines)} lines: the real usacloud differed from the rule's expectation")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    rejected = sum(1 for line in lines if line["expected"] == "rejected")
    print(f"wrote {output}: {len(lines)} command lines, {rejected} rejected, {len(lines) - rejected} accepted")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
