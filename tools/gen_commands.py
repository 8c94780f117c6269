#!/usr/bin/env python3
"""Generate ``pytest_usacloud_sandbox/usacloud/_command_data.py`` from usacloud's command tree.

Usage (from the repository root)::

    python tools/gen_commands.py PATH/TO/usacloud-tree.json [OUTPUT]

The input is usacloud's command tree as data, read from usacloud's Go source (the project keeps
it as ``../shared/usacloud-tree.json``): per resource its aliases, whether it is global, its
default subcommand and deprecation warning; per subcommand its aliases, whether it confirms, how
it selects targets, which parameter fields get a default in code, and every flag (short form,
aliases, boolean or not, required, allowed values, validation tag, Go type). The output is a plain Python data literal
that records the usacloud version it describes; ``usacloud/commands.py`` turns it into typed
objects, and the test suite's stand-in usacloud reads the same table. Run it again when usacloud's
tree changes; ``tests/test_gen_commands.py`` fails while the checked-in file is stale.

The tree has no notion of what a subcommand *does* (read, delete, power...), which the sandbox
policy needs. That classification is kept here, by subcommand name, and every subcommand of the
tree must get one: a new name stops the generator until someone classifies it.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "pytest_usacloud_sandbox" / "usacloud" / "_command_data.py"

# What a subcommand does, by its name (the sandbox policy refuses "delete" and "power" kinds and
# lets global resources run only "read", "wait" and "local-read").
KIND_BY_NAME = {
    "read": (
        *("list", "read", "read-certificate", "list-parameters", "list-subnet", "logs", "health", "health-status"),
        *("csv", "ping", "monitor-connection", "monitor-cpu", "monitor-database", "monitor-disk"),
        *("monitor-free-disk-size", "monitor-interface", "monitor-local-router", "monitor-response-time"),
        *("monitor-router", "monitor-sim"),
    ),
    "wait": ("wait-until-ready", "wait-until-shutdown"),
    "create": ("create", "create-certificate", "create-standard", "add-subnet"),
    "update": ("update", "update-certificate", "update-host-name", "update-standard", "edit"),
    "delete": ("delete", "delete-cache", "delete-cache-all", "delete-subnet"),
    "power": ("boot", "shutdown", "reset", "send-nmi"),
    "op": (
        *("activate", "connect-switch", "connect-to-server", "download", "upload", "enable-ipv6", "ftp-open"),
        *("ftp-close", "renew-lets-encrypt-cert", "resize-partition", "send-message"),
    ),
    "disruptive": ("deactivate", "disable-ipv6", "disconnect-from-server", "disconnect-switch"),
    "connect": ("ssh", "vnc", "rdp"),
    "request": ("request",),
}
# Subcommands whose kind is not the one their name suggests: local profile files, not the API.
KIND_OVERRIDES = {
    ("config", "list"): "local-read",
    ("config", "current"): "local-read",
    ("config", "show"): "local-read",
    ("config", "path"): "local-read",
    ("config", "create"): "local-write",
    ("config", "edit"): "local-write",
    ("config", "use"): "local-write",
    ("self", "id"): "local-read",
}
# What usacloud's fake driver does not fake (read from usacloud 1.22.8's source, measured with the real
# binary): it fakes only the iaas platform's API caller. A resource of another platform (the tree's
# `platform`: `webaccel`) gets a real client in fake mode, and so does `rest` (platform ``, the
# plain HTTP client). Among the iaas commands, those that build an iaas-service-go service with
# saclient's client look the account up in the real IAM API first (`ctx.Saclient()`): these.
IAM_CALLERS = frozenset({("bill", "list"), ("bill", "csv"), ("coupon", "list")})
# Resources that only read and write local files (usacloud's profiles).
LOCAL_RESOURCES = frozenset({"config"})

# Subcommands whose positional arguments are not ID|NAME|TAG targets (a profile name, a URL).
SELECTOR_OVERRIDES = {("config", name): "other" for name in ("show", "use", "path", "edit", "create", "delete")}
SELECTOR_OVERRIDES[("rest", "request")] = "other"

# Plain cobra commands under the root that are not resources (cobra built-ins and usacloud's own).
ROOT_COMMANDS = (
    {"name": "iaas", "confirm": False, "kind": "group", "args": "-"},
    {"name": "completion", "confirm": False, "kind": "local-read", "args": "exactly 1 of bash|zsh|fish|powershell"},
    {"name": "version", "confirm": False, "kind": "local-read", "args": "none declared (extra args ignored)"},
    {"name": "update-self", "confirm": False, "kind": "self-update", "args": "none"},
    {"name": "help", "confirm": False, "kind": "local-read", "args": "[command...]"},
)

# The tree prints some allowed-value lists cut short ("almalinux rockylinux ... ..."): the OS types
# in full, as usacloud 1.22.8's validator lists them (`--os-type: oneof=...`, seen on the real binary).
OS_TYPES = (
    *("almalinux", "almalinux10", "almalinux9", "almalinux8", "rockylinux", "rockylinux10", "rockylinux9"),
    *("rockylinux8", "miracle", "miraclelinux", "miracle9", "miraclelinux9", "miracle8", "miraclelinux8"),
    *("ubuntu", "ubuntu2404", "ubuntu2204", "debian", "debian12", "debian11", "kusanagi"),
)
FULL_LISTS = (OS_TYPES,)

VALUE_TYPES = {
    "BoolVarP": "bool",
    "Bool": "bool",
    "cobra": "bool",
    "IntVarP": "int",
    "Int": "int",
    "StringVarP": "string",
    "String": "string",
    "saclient-go flag.Var": "string",
    "StringSliceVarP": "strings",
    "StringSlice": "strings",
    "VarP": "id",
}
EXPECTED = {"resources": 50, "subcommands": 286, "flags": 3324}


class TreeError(ValueError):
    pass


def kind_of(resource: str, name: str) -> str:
    if (resource, name) in KIND_OVERRIDES:
        return KIND_OVERRIDES[resource, name]
    for kind, names in KIND_BY_NAME.items():
        if name in names:
            return kind
    raise TreeError(f"`{resource} {name}` is a subcommand this generator has not classified: add it to KIND_BY_NAME")


def unfaked(resource: str, platform: str, name: str, kind: str) -> str | None:
    """The real API a subcommand reaches even in fake mode ("webaccel", "iam", "rest"), or None when
    the fake driver answers it (or it reads only local files)."""
    if kind.startswith("local") or resource in LOCAL_RESOURCES:
        return None
    if platform == "iaas":
        return "iam" if (resource, name) in IAM_CALLERS else None
    if not platform:
        if kind != "request":
            raise TreeError(f"`{resource} {name}` has no platform and is not `rest`: classify its fake mode")
        return "rest"
    return platform


def options_of(where: str, raw: list | None) -> tuple[str, ...] | None:
    """The closed set of allowed values, or None (no fixed set, or one with a placeholder)."""
    if not raw:
        return None
    if any(v.startswith("(") for v in raw):
        return None  # "(switch-id)": any ID also goes, so the set is open
    if raw[-1] == "...":
        shown = raw[:-1]
        full = next((c for c in FULL_LISTS if set(shown) <= set(c)), None)
        if full is None:
            raise TreeError(f"{where}: allowed values cut short and not known in full: {raw}")
        return tuple(full)
    return tuple(str(v) for v in raw)


def flag_row(where: str, name: str, spec: dict, defaults: list[str]) -> tuple:
    value = VALUE_TYPES.get(spec["type"])
    if value is None:
        raise TreeError(f"{where} --{name}: unknown flag type {spec['type']!r}")
    if (value == "bool") != bool(spec["bool"]):
        raise TreeError(f"{where} --{name}: type {spec['type']} disagrees with bool={spec['bool']}")
    field = spec.get("field") or ""
    parts = field.split(".")
    # A field (or the struct holding it) that gets a default in code satisfies `required`.
    defaulted = any(".".join(parts[:i]) in defaults for i in range(1, len(parts) + 1))
    required = bool(spec.get("required")) and not defaulted
    short = f"-{spec['short']}" if spec.get("short") else None
    aliases = tuple(f"--{a}" for a in spec.get("aliases") or ())
    options = options_of(f"{where} --{name}", spec.get("options"))
    validate = spec.get("validate") or None
    go_type = spec.get("go_type") or None
    return (f"--{name}", short, aliases, value, required, field, options, validate, go_type)


def build(tree: dict) -> dict:
    resources = []
    nflags = 0
    for rname, res in tree["resources"].items():
        if rname != res["name"]:
            raise TreeError(f"resource key {rname!r} names {res['name']!r}")
        subs = []
        for sname, sub in res["subcommands"].items():
            where = f"{rname} {sname}"
            flags = tuple(flag_row(where, f, spec, sub.get("defaults") or []) for f, spec in sub["flags"].items())
            nflags += len(flags)
            selector = SELECTOR_OVERRIDES.get((rname, sname), sub["selector"])
            if selector not in ("none", "single", "multi", "other"):
                raise TreeError(f"{where}: unknown selector {selector!r}")
            kind = kind_of(rname, sname)
            subs.append(
                {
                    "name": sname,
                    "aliases": tuple(sub["aliases"]),
                    "confirm": bool(sub["confirm"]),
                    "kind": kind,
                    "selector": selector,
                    "is_default": sname == res["default"],
                    "custom_validate": bool(sub.get("custom_validate")),
                    "defaults": tuple(sub.get("defaults") or ()),
                    "unfaked": unfaked(rname, res.get("platform", ""), sname, kind),
                    "flags": flags,
                }
            )
        zoned = any(f[0] == "--zone" for s in subs for f in s["flags"])
        resources.append(
            {
                "name": rname,
                "aliases": tuple(res["aliases"]),
                "scope": "global" if res["global"] else "zoned" if zoned else "zoneless",
                "location": res["location"],
                "platform": res.get("platform", ""),
                "default": res["default"],
                "deprecated": res["warning"] or None,
                "subcommands": tuple(subs),
            }
        )
    globals_ = tuple(flag_row("global", name, spec, []) for name, spec in tree["global_flags"].items())
    counts = {"resources": len(resources), "subcommands": sum(len(r["subcommands"]) for r in resources)}
    counts["flags"] = nflags
    if counts != EXPECTED:
        print(f"note: the tree has {counts}, the usacloud 1.22.8 tree had {EXPECTED}", file=sys.stderr)
    return {
        "version": tree["usacloud_version"],
        "source": tree.get("source", ""),
        "globals": globals_,
        "resources": resources,
        "counts": counts,
    }


def render(data: dict, input_name: str) -> str:
    version = data["version"]
    out = [
        f'"""usacloud {version} command tree as plain data. GENERATED FILE, do not edit.',
        "",
        f"Generated by tools/gen_commands.py from {input_name}:",
        *textwrap.wrap(f"{data['source']}.", 100),
        "The typed API over this data is pytest_usacloud_sandbox/usacloud/commands.py; the test suite's",
        "stand-in usacloud (tests/standin/usacloud) reads it too.",
        "",
        "Flag rows are (name, short, aliases, value, required, field, options, validate, go_type):",
        "  value     'bool' | 'int' | 'string' | 'strings' (comma-separated list) | 'id' (resource ID)",
        "  required  usacloud validates the field as required and the code gives it no default",
        "  field     the parameter field (JSON key path in --parameters), '' for root flags",
        "  options   the closed set of values usacloud accepts, or None",
        "  validate  the go-playground/validator tag of the field in usacloud's source, or None",
        "  go_type   the field's Go type ('int', '*int', '[]string', 'types.ID', ...), or None",
        "A subcommand with custom_validate also runs its own Validate method in usacloud's Go code;",
        "its defaults are the parameter fields (or structs) usacloud gives a value in code.",
        "A resource's platform is the API client it uses (iaas, webaccel; '' for config and rest); a",
        "subcommand's unfaked names the real API it reaches even in fake mode (webaccel, iam, rest), or None.",
        '"""',
        "",
        f"USACLOUD_VERSION = {version!r}",
        f"COUNTS = {data['counts']!r}",
        "",
        "# Plain root commands (cobra commands that are not resources).",
        "ROOT_COMMANDS = (",
    ]
    out += [f"    {c!r}," for c in ROOT_COMMANDS]
    out += [")", "", "GLOBAL_FLAGS = ("]
    out += [f"    {row!r}," for row in data["globals"]]
    out += [")", "", "RESOURCES = ("]
    for r in data["resources"]:
        out += ["    {"]
        keys = ("name", "aliases", "scope", "location", "platform", "default", "deprecated")
        out += [f"        {k!r}: {r[k]!r}," for k in keys]
        out += ["        'subcommands': ("]
        for s in r["subcommands"]:
            head = ", ".join(
                f"{k!r}: {s[k]!r}"
                for k in (
                    *("name", "aliases", "confirm", "kind", "selector", "is_default"),
                    *("custom_validate", "defaults", "unfaked"),
                )
            )
            out.append(f"            {{{head}, 'flags': (")
            out += [f"                {row!r}," for row in s["flags"]]
            out.append("            )},")
        out += ["        ),", "    },"]
    out += [")", ""]
    return "\n".join(out)


def generate(tree_path: Path) -> tuple[str, dict]:
    """The module text for the tree file at ``tree_path``, and what it describes."""
    tree = json.loads(Path(tree_path).read_text(encoding="utf-8"))
    data = build(tree)
    return render(data, Path(tree_path).name), data


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: python tools/gen_commands.py TREE.json [OUTPUT]", file=sys.stderr)
        return 2
    output = Path(argv[2]) if len(argv) == 3 else OUTPUT
    try:
        text, data = generate(Path(argv[1]))
    except (OSError, ValueError, KeyError) as exc:
        print(f"gen_commands: {exc}", file=sys.stderr)
        return 1
    compile(text, str(output), "exec")
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}: usacloud {data['version']}, {data['counts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
