#!/usr/bin/env python3
"""Generate ``pytest_usacloud_sandbox/usacloud/_command_data.py`` from the usacloud facts.

Usage (from the repository root)::

    python tools/gen_commands.py [path/to/usacloud-commands.md]

The default input is ``../shared/usacloud-commands.md`` relative to the repository
root. The input is the markdown description of the usacloud 1.22.8 command tree
(resource index, one table per resource, root flags, plain root commands). The
output is a plain Python data literal; ``pytest_usacloud_sandbox/usacloud/commands.py``
turns it into typed objects. Run it again only when the facts change.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = REPO_ROOT / ".." / "shared" / "usacloud-commands.md"
OUTPUT = REPO_ROOT / "pytest_usacloud_sandbox" / "usacloud" / "_command_data.py"

# The facts give flag names but not their types. These flags are booleans (no
# value); every other flag takes a value. Checked against usacloud's generated
# flag definitions (BoolVarP) for the resources where the name is ambiguous.
BOOL_FLAGS = frozenset(
    [
        "--boot-after-create",
        "--change-partition-uuid",
        "--change-password",
        "--disable-pw-auth",
        "--disabled",
        "--disk-edit-change-partition-uuid",
        "--disk-edit-disable-pw-auth",
        "--disk-edit-enable-dhcp",
        "--disk-edit-make-notes-ephemeral",
        "--disk-edit-make-ssh-keys-ephemeral",
        "--disk-no-wait",
        "--edit-disk-change-partition-uuid",
        "--edit-disk-disable-pw-auth",
        "--edit-disk-enable-dhcp",
        "--edit-disk-make-notes-ephemeral",
        "--edit-disk-make-ssh-keys-ephemeral",
        "--enable-backup",
        "--enable-dhcp",
        "--enable-ipv6",
        "--enable-replication",
        "--enable-web-ui",
        "--enabled",
        "--fail-if-not-found",
        "--force",
        "--force-shutdown",
        "--gzip-enabled",
        "--health-check-http2",
        "--health-check-sni",
        "--health-check-verify-sni",
        "--inter-device-communication-enabled",
        "--internet-connection-enabled",
        "--lets-encrypt-accept-tos",
        "--lets-encrypt-enabled",
        "--make-notes-ephemeral",
        "--make-ssh-keys-ephemeral",
        "--no-color",
        "--no-new-line",
        "--no-wait",
        "--notify-email-enabled",
        "--notify-email-html",
        "--notify-slack-enabled",
        "--proxy-protocol-enabled",
        "--sticky-session-enabled",
        "--traffic-config-auto-traffic-shaping",
        "--traffic-config-email-notify-enabled",
        "--traffic-config-slack-notify-enabled",
        "--use",
        "--vip-fail-over",
        "--wait-for-release",
        "--wait-until-ready",
        "--weighted",
        "--with-disks",
    ]
)

# Standard flag groups (section 3 of the facts). Row: (name, short, aliases, takes_value, required).
STANDARD_GROUPS = {
    "Z": (("--zone", None, (), True, True),),
    "O": (
        ("--output-type", "-o", ("--out",), True, False),
        ("--quiet", "-q", (), False, False),
        ("--format", None, ("--fmt",), True, False),
        ("--query", None, (), True, False),
        ("--query-driver", None, (), True, False),
    ),
    "q": (
        ("--query", None, (), True, False),
        ("--query-driver", None, (), True, False),
    ),
    "I": (
        ("--parameters", None, (), True, False),
        ("--generate-skeleton", None, ("--skeleton",), False, False),
        ("--example", None, (), False, False),
    ),
    "y": (("--assumeyes", "-y", (), False, False),),
}

# Facts that the tables state only in prose.
SELECTOR_OVERRIDES = {
    # "usage says ipv4_address, but value is read from --ipaddress; positional not consumed"
    ("ipaddress", "read"): "none",
}

KIND_PATTERNS = (  # first match wins; matched against the start of the kind cell
    ("read (wait/poll)", "wait"),
    ("read", "read"),
    ("create", "create"),
    ("update", "update"),
    ("op (disruptive)", "disruptive"),
    ("op", "op"),
    ("**DELETE**", "delete"),
    ("**POWER**", "power"),
    ("connect", "connect"),
    ("local read", "local-read"),
    ("local write", "local-write"),
    ("any HTTP method", "request"),
    ("self-update", "self-update"),
    ("group only", "group"),
    ("cobra built-in", "local-read"),
)

HEADING = re.compile(r"^### (?P<name>[a-z0-9-]+) \(aliases: (?P<aliases>[^)]*)\) — (?P<scope>.*)$")
DEFAULT_SUB = re.compile(r"bare `[a-z-]+` runs default subcommand \*\*(?P<sub>[a-z-]+)\*\*")
DEPRECATION = re.compile(r'^Every subcommand prints warning: "(?P<msg>.*)"$')
FLAG_TOKEN = re.compile(r"^(?:(?P<short>-[A-Za-z])/)?(?P<name>--[a-z0-9-]+)(?P<req>\*)?(?:\((?P<aliases>[^)]*)\))?$")
VERSION = re.compile(r"says \*\*(?P<version>\d+\.\d+\.\d+)\*\*")


def split_row(line: str) -> list[str]:
    cells = line.replace("\\|", "\x00").strip().strip("|").split("|")
    return [c.strip().replace("\x00", "|") for c in cells]


def parse_kind(text: str) -> str:
    for prefix, kind in KIND_PATTERNS:
        if text.startswith(prefix):
            return kind
    raise ValueError(f"unknown kind: {text!r}")


def parse_selector(text: str) -> str:
    if text == "-":
        return "none"
    if "(multi)" in text:
        return "multi"
    if "(single" in text:
        return "single"
    return "other"


def parse_aliases(text: str) -> tuple[str, ...]:
    return () if text.strip() in ("-", "") else tuple(a.strip() for a in text.split(","))


def parse_flags(text: str) -> tuple[tuple, ...]:
    if text == "-":
        return ()
    rows = []
    for token in text.split():
        m = FLAG_TOKEN.match(token)
        if not m:
            raise ValueError(f"cannot parse flag {token!r}")
        name = m["name"]
        aliases = tuple(a.strip() for a in m["aliases"].split(",")) if m["aliases"] else ()
        rows.append((name, m["short"], aliases, name not in BOOL_FLAGS, bool(m["req"])))
    return tuple(rows)


def parse_scope(text: str) -> str:
    if text.startswith("zoned"):
        return "zoned"
    if text.startswith("global"):
        return "global"
    if text.startswith("zone-less"):
        return "zoneless"
    raise ValueError(f"unknown scope: {text!r}")


def parse_resources(lines: list[str]) -> list[dict]:
    resources: list[dict] = []
    location = None
    current = None
    for line in lines:
        if line.startswith("## "):
            location = "iaas" if line.startswith("## 6.") else "root" if line.startswith("## 7.") else None
            current = None
            continue
        if location is None:
            continue
        m = HEADING.match(line)
        if m:
            current = {
                "name": m["name"],
                "aliases": parse_aliases(m["aliases"]),
                "scope": parse_scope(m["scope"]),
                "location": location,
                "default": None,
                "deprecated": None,
                "subcommands": [],
            }
            resources.append(current)
            continue
        if current is None:
            continue
        if d := DEFAULT_SUB.search(line):
            current["default"] = d["sub"]
        if d := DEPRECATION.match(line):
            current["deprecated"] = d["msg"]
        if not line.startswith("| ") or line.startswith("| subcommand"):
            continue
        cells = split_row(line)
        if len(cells) != 7:
            raise ValueError(f"bad row in {current['name']}: {line!r}")
        name, aliases, confirm, kind, args, std, flags = cells
        is_default = name.endswith(" (default)")
        name = name.removesuffix(" (default)")
        selector = SELECTOR_OVERRIDES.get((current["name"], name), parse_selector(args))
        current["subcommands"].append(
            {
                "name": name,
                "aliases": parse_aliases(aliases),
                "confirm": confirm == "yes",
                "kind": parse_kind(kind),
                "selector": selector,
                "std": "" if std == "-" else std,
                "flags": parse_flags(flags),
                "is_default": is_default,
            }
        )
    return resources


def parse_section_table(lines: list[str], heading_prefix: str) -> list[list[str]]:
    rows, inside = [], False
    for line in lines:
        if line.startswith("## "):
            inside = line.startswith(heading_prefix)
            continue
        if inside and line.startswith("| ") and not line.startswith("|---"):
            rows.append(split_row(line))
    return rows[1:]  # drop the header row


def parse_global_flags(lines: list[str]) -> list[tuple]:
    flags = []
    for cells in parse_section_table(lines, "## 2."):
        names = re.findall(r"`(-[-a-z]+)`", cells[0])
        long = next(n for n in names if n.startswith("--"))
        short = next((n for n in names if not n.startswith("--")), None)
        flags.append((long, short, (), cells[1] != "bool", False))
    return flags


def parse_root_commands(lines: list[str]) -> list[dict]:
    commands = []
    for cells in parse_section_table(lines, "## 8."):
        name, _aliases, confirm, kind, args, _flags = cells
        commands.append(
            {
                "name": name,
                "confirm": confirm == "yes",
                "kind": parse_kind(kind.replace("**no confirm**", "").strip()),
                "args": args,
            }
        )
    return commands


def validate(resources: list[dict], text: str) -> None:
    """Cross-check the parsed tree against the counts in the resource index and summary."""
    index = {c[0]: c for c in parse_section_table(text.splitlines(), "## 5.")}
    assert len(resources) == len(index) == 50, (len(resources), len(index))
    for res in resources:
        row = index[res["name"]]
        assert int(row[4]) == len(res["subcommands"]), res["name"]
        assert int(row[5]) == sum(s["confirm"] for s in res["subcommands"]), res["name"]
        assert (row[6] if row[6] != "-" else None) == res["default"], res["name"]
        assert parse_aliases(row[1]) == res["aliases"], res["name"]
    subs = [s for r in resources for s in r["subcommands"]]
    assert len(subs) == 286, len(subs)
    assert sum(s["confirm"] for s in subs) == 142
    assert sum("Z" in s["std"] for s in subs) == 171


def fmt_flag(row: tuple) -> str:
    name, short, aliases, takes_value, required = row
    return f"({name!r}, {short!r}, {aliases!r}, {takes_value!r}, {required!r})"


def render(version: str, source: str, globals_: list, roots: list, resources: list) -> str:
    out = [
        f'"""usacloud {version} command tree as plain data. GENERATED FILE, do not edit.',
        "",
        f"Generated by tools/gen_commands.py from the project's usacloud facts ({source}),",
        f"which describe usacloud {version} as read from its source. Regenerate instead of",
        "editing. The typed API over this data is pytest_usacloud_sandbox/usacloud/commands.py.",
        "",
        "Flag rows are (name, short, aliases, takes_value, required).",
        "Subcommand std codes: Z = --zone, O = output group, q = --query/--query-driver only,",
        "I = input group; confirming subcommands also get the 'y' group (-y/--assumeyes).",
        '"""',
        "",
        f"USACLOUD_VERSION = {version!r}",
        "",
        "STANDARD_FLAG_GROUPS = {",
    ]
    for code, rows in STANDARD_GROUPS.items():
        out.append(f"    {code!r}: (")
        out += [f"        {fmt_flag(r)}," for r in rows]
        out.append("    ),")
    out += ["}", "", "GLOBAL_FLAGS = ("]
    out += [f"    {fmt_flag(r)}," for r in globals_]
    out += [")", "", "# Plain root commands (cobra commands that are not resources).", "ROOT_COMMANDS = ("]
    for c in roots:
        out.append(
            f"    {{'name': {c['name']!r}, 'confirm': {c['confirm']!r}, 'kind': {c['kind']!r}, 'args': {c['args']!r}}},"
        )
    out += [")", "", "RESOURCES = ("]
    for r in resources:
        out += [
            "    {",
            f"        'name': {r['name']!r},",
            f"        'aliases': {r['aliases']!r},",
            f"        'scope': {r['scope']!r},",
            f"        'location': {r['location']!r},",
            f"        'default': {r['default']!r},",
            f"        'deprecated': {r['deprecated']!r},",
            "        'subcommands': (",
        ]
        for s in r["subcommands"]:
            head = ", ".join(
                f"{k!r}: {s[k]!r}" for k in ("name", "aliases", "confirm", "kind", "selector", "std", "is_default")
            )
            if not s["flags"]:
                out.append(f"            {{{head}, 'flags': ()}},")
                continue
            out.append(f"            {{{head}, 'flags': (")
            out += [f"                {fmt_flag(f)}," for f in s["flags"]]
            out.append("            )},")
        out += ["        ),", "    },"]
    out += [")", ""]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_INPUT
    text = source.read_text(encoding="utf-8")
    lines = text.splitlines()
    version = VERSION.search(text)["version"]
    resources = parse_resources(lines)
    validate(resources, text)
    data = render(version, source.name, parse_global_flags(lines), parse_root_commands(lines), resources)
    compile(data, str(OUTPUT), "exec")
    OUTPUT.write_text(data, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(REPO_ROOT)}: {len(resources)} resources, usacloud {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
