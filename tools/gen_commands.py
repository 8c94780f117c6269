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
# Subcommands that also move a file over FTP, to or from the FTP host the (fake) API names: usacloud's
# fake driver fakes the API only, and these then dial `sac-<zone>-ftp.example.jp:21` for real
# (iaas-service-go's FTPS client). `archive create` does so only with `--source-file` (FILE_FLAGS: upload).
FTP_SUBCOMMANDS = frozenset(
    {("archive", "upload"), ("archive", "download"), ("cdrom", "create"), ("cdrom", "upload"), ("cdrom", "download")}
)
# Flags whose value usacloud 1.22.8 reads as a local file (from its source: util.StringFromPathOrContent,
# BytesFromPathOrContent, MarshalJSONFromPathOrContent, the mapconv filters path_or_content,
# path_to_reader and path_to_writer, and the `file` validator), by subcommand ("*": every one that
# has the field) and the last part of the parameter field:
#   template  --format: the Go template, or a file holding it (`~/` expanded)
#   query     --query: the query, or a file holding it (`~/` expanded)
#   content   the content itself, or a file holding it (`~/` expanded): read if it names a readable file
#   upload    a file it opens (no `~`) and uploads to the FTP host the API names
#   download  a file it creates (no `~`) with what it downloads from that FTP host
#   open      a file it opens (no `~`) and hands to a local program (`server ssh --key`)
# Every listed entry must match a flag, and every flag with the `file` validator must be listed.
FILE_FLAGS = {
    ("*", "Format"): "template",
    ("*", "Query"): "query",
    ("*", "Parameters"): "content",
    **{
        ("*", leaf): "content"  # JSON lists and objects (MarshalJSONFromPathOrContent) and disk-edit fields
        for leaf in (
            *("BindPortsData", "ClientsData", "DisksData", "ExpressionsData", "NetworkInterfaceData", "NotesData"),
            *("PeersData", "PrivateNetworkInterfacesData", "RecordsData", "RulesData", "SIMRoutesData", "SIMsData"),
            *("ScheduleScalingData", "ServersData", "StaticRoutesData", "UsersData", "VirtualIPAddressesData"),
            *("DHCPServerData", "DHCPStaticMappingData", "DNSForwardingData", "FirewallData", "L2TPIPsecServerData"),
            *("PPTPServerData", "PortForwardingData", "RemoteAccessUsersData", "SiteToSiteIPsecVPNData"),
            *("StaticNATData", "StaticRouteData", "WireGuardData", "SSHKeys"),
        )
    },
    ("note create", "Content"): "content",
    ("ssh-key create", "PublicKey"): "content",
    ("icon create", "Image"): "content",
    ("server boot", "UserData"): "content",
    ("auto-scale create", "Config"): "content",
    ("auto-scale update", "Config"): "content",
    ("web-accelerator create-certificate", "CertificateChain"): "content",
    ("web-accelerator create-certificate", "Key"): "content",
    ("web-accelerator update-certificate", "CertificateChain"): "content",
    ("web-accelerator update-certificate", "Key"): "content",
    ("rest request", "Data"): "content",
    ("archive create", "SourceFile"): "upload",
    ("archive upload", "SourceFile"): "upload",
    ("cdrom create", "SourceFile"): "upload",
    ("cdrom upload", "SourceFile"): "upload",
    ("archive download", "Destination"): "download",
    ("cdrom download", "Destination"): "download",
    ("server ssh", "Key"): "open",
}
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
    """The real service a subcommand reaches even in fake mode ("webaccel", "iam", "rest", "ftp"), or
    None when the fake driver answers it (or it reads only local files)."""
    if kind.startswith("local") or resource in LOCAL_RESOURCES:
        return None
    if platform == "iaas":
        if (resource, name) in FTP_SUBCOMMANDS:
            return "ftp"
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


def file_kind(where: str, spec: dict) -> str | None:
    """How usacloud reads the flag's value as a local file (FILE_FLAGS), or None."""
    leaf = (spec.get("field") or "").split(".")[-1]
    kind = FILE_FLAGS.get((where, leaf)) or FILE_FLAGS.get(("*", leaf))
    if kind is None and "file" in (spec.get("validate") or "").replace("|", ",").split(","):
        raise TreeError(f"{where}: a flag of field {spec.get('field')} has the `file` validator: add it to FILE_FLAGS")
    return kind


def files_of(where: str, flags: dict, used: set) -> tuple[tuple[str, str], ...]:
    """(flag name, file kind) of the subcommand's flags usacloud reads or writes as local files."""
    found = []
    for name, spec in flags.items():
        kind = file_kind(where, spec)
        if kind is not None:
            leaf = (spec.get("field") or "").split(".")[-1]
            used.add((where, leaf) if (where, leaf) in FILE_FLAGS else ("*", leaf))
            found.append((f"--{name}", kind))
    return tuple(sorted(found))


def build(tree: dict) -> dict:
    resources = []
    nflags = 0
    used_files: set = set()
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
                    "files": files_of(where, sub["flags"], used_files),
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
    unused = sorted(set(FILE_FLAGS) - used_files)
    if unused:
        raise TreeError(f"FILE_FLAGS entries that match no flag of the tree: {unused}")
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
        '"""',
        "",
        "# Flag rows are (name, short, aliases, value, required, field, options, validate, go_type):",
        "#   value     'bool' | 'int' | 'string' | 'strings' (comma-separated list) | 'id' (resource ID)",
        "#   required  usacloud validates the field as required and the code gives it no default",
        "#   field     the parameter field (JSON key path in --parameters), '' for root flags",
        "#   options   the closed set of values usacloud accepts, or None",
        "#   validate  the go-playground/validator tag of the field in usacloud's source, or None",
        "#   go_type   the field's Go type ('int', '*int', '[]string', 'types.ID', ...), or None",
        "# A subcommand with custom_validate also runs its own Validate method in usacloud's Go code;",
        "# its defaults are the parameter fields (or structs) usacloud gives a value in code.",
        "# A resource's platform is the API client it uses (iaas, webaccel; '' for config and rest); a",
        "# subcommand's unfaked names the real service it reaches even in fake mode (webaccel, iam, rest, ftp),",
        "# or None; its files are (flag, kind) of the flags whose value usacloud reads or writes as a local file:",
        "#   template/query/content  the value, or the file it names (`~/` expanded); upload/open  a file it reads;",
        "#   download  a file it writes (upload and download go through the FTP host the API names).",
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
                    *("custom_validate", "defaults", "unfaked", "files"),
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
