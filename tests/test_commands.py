"""The usacloud command table (generated data) and resolve()."""

from __future__ import annotations

import shlex
from collections import Counter

import pytest

from pytest_usacloud_sandbox.usacloud import commands as c
from pytest_usacloud_sandbox.usacloud.commands import (
    GLOBAL_FLAGS,
    USACLOUD_VERSION,
    Flag,
    all_resources,
    find_resource,
    resolve,
)

SUBS = [(r, s) for r in all_resources() for s in r.subcommands]


def sub(resource: str, name: str):
    res = find_resource(resource)
    assert res is not None
    found = res.find_subcommand(name)
    assert found is not None
    return found


# -- the table ------------------------------------------------------------------------


def test_version():
    assert USACLOUD_VERSION == "1.22.8"


def test_counts_match_the_facts_summary():
    assert len(all_resources()) == 50
    assert len(SUBS) == 286
    assert sum(s.confirm for _, s in SUBS) == 142
    assert sum(s.has_zone for _, s in SUBS) == 171
    kinds = Counter(s.kind for _, s in SUBS)
    assert kinds["delete"] == 35
    assert kinds["power"] == 19
    assert Counter(r.location for r in all_resources()) == {"iaas": 47, "root": 3}


def test_kinds_and_selectors_are_from_the_closed_sets():
    kinds = {
        "read",
        "wait",
        "create",
        "update",
        "op",
        "disruptive",
        "delete",
        "power",
        "connect",
        "local-read",
        "local-write",
        "request",
        "self-update",
    }
    assert {s.kind for _, s in SUBS} <= kinds
    assert {s.selector for _, s in SUBS} == {"none", "single", "multi", "other"}
    assert {r.scope for r in all_resources()} == {"zoned", "global", "zoneless"}


def test_no_flag_word_is_ambiguous_within_a_subcommand():
    for res, s in SUBS:
        words = [w for f in s.flags for w in f.names]
        assert len(words) == len(set(words)), (res.name, s.name)


def test_resource_words_are_unique():
    words = [w for r in all_resources() for w in r.names]
    assert len(words) == len(set(words))


def test_global_flags():
    assert sorted(f.name for f in GLOBAL_FLAGS) == [
        "--argument-match-mode",
        "--fake",
        "--fake-store",
        "--help",
        "--no-color",
        "--private-key-path",
        "--process-timeout-sec",
        "--profile",
        "--secret",
        "--service-principal-id",
        "--service-principal-key-id",
        "--token",
        "--trace",
        "--version",
        "--zones",
    ]
    by_name = {f.name: f for f in GLOBAL_FLAGS}
    assert by_name["--version"].aliases == ("-v",) and not by_name["--version"].takes_value
    assert by_name["--help"].short == "-h"
    assert by_name["--zones"].takes_value and by_name["--fake-store"].takes_value
    assert not by_name["--fake"].takes_value and not by_name["--trace"].takes_value


@pytest.mark.parametrize(
    ("word", "name"),
    [
        ("iso-image", "cdrom"),
        ("startup-script", "note"),
        ("router", "internet"),
        ("profile", "config"),
        ("mgw", "mobile-gateway"),
        ("zones", "zone"),
        ("webaccel", "web-accelerator"),
        ("elb", "proxy-lb"),
        ("ip-address", "ipaddress"),
        ("server", "server"),
        ("autoscale", "auto-scale"),
    ],
)
def test_find_resource_by_name_or_alias(word, name):
    assert find_resource(word).name == name


@pytest.mark.parametrize("word", ["ipv4", "summary", "ojs", "servers", "", "iaas", "version"])
def test_find_resource_unknown(word):
    assert find_resource(word) is None


@pytest.mark.parametrize(
    ("name", "scope", "location", "default"),
    [
        ("server", "zoned", "iaas", None),
        ("dns", "global", "iaas", None),
        ("ssh-key", "global", "iaas", None),
        ("simple-monitor", "global", "iaas", None),
        ("sim", "global", "iaas", None),
        ("auth-status", "zoneless", "iaas", "read"),
        ("self", "zoneless", "iaas", "id"),
        ("coupon", "global", "iaas", "list"),
        ("config", "global", "root", "edit"),
        ("rest", "global", "root", "request"),
        ("web-accelerator", "global", "root", None),
    ],
)
def test_resource_scope_location_default(name, scope, location, default):
    res = find_resource(name)
    assert (res.scope, res.location, res.default_subcommand) == (scope, location, default)
    assert res.is_global == (scope == "global")
    if default:
        assert res.find_subcommand(default).is_default


def test_deprecated_resource():
    assert "deprecated" in find_resource("auth-status").deprecated
    assert find_resource("server").deprecated is None


@pytest.mark.parametrize(
    ("resource", "word", "name"),
    [
        ("server", "ls", "list"),
        ("server", "build", "create"),
        ("server", "rm", "delete"),
        ("server", "power-on", "boot"),
        ("server", "remote-desktop", "rdp"),
        ("disk", "monitor", "monitor-disk"),
        ("archive", "wait-for-copy", "wait-until-ready"),
        ("web-accelerator", "cert-read", "read-certificate"),
    ],
)
def test_find_subcommand_alias(resource, word, name):
    assert sub(resource, word).name == name


def test_find_subcommand_unknown():
    assert find_resource("server").find_subcommand("foo") is None
    assert find_resource("ssh-key").find_subcommand("generate") is None


@pytest.mark.parametrize(
    ("resource", "subcommand", "word", "name", "takes_value"),
    [
        ("server", "list", "--max", "--count", True),
        ("server", "list", "--limit", "--count", True),
        ("server", "list", "--out", "--output-type", True),
        ("server", "list", "-o", "--output-type", True),
        ("server", "list", "--zone=tk1v", "--zone", True),
        ("server", "list", "-q", "--quiet", False),
        ("server", "list", "--skeleton", "--generate-skeleton", False),
        ("server", "delete", "-y", "--assumeyes", False),
        ("server", "delete", "-f", "--force", False),
        ("server", "shutdown", "--force", "--force-shutdown", False),
        ("server", "create", "--core", "--cpu", True),
        ("server", "create", "--iso-image-id", "--cdrom-id", True),
        ("internet", "create", "--not-found-retry", "--not-found-retry", True),
        ("internet", "create", "--no-wait", "--no-wait", False),
        ("server", "ssh", "-i", "--key", True),
        ("vpc-router", "ping", "-d", "--destination", True),
        ("rest", "request", "-X", "--method", True),
        ("rest", "request", "--zone", "--zone", True),
        ("self", "id", "-n", "--no-new-line", False),
        ("note", "create", "--scripts", "--content", True),
        ("simple-monitor", "create", "--health-check-sni", "--health-check-sni", False),
        ("simple-monitor", "create", "--health-check-ftps", "--health-check-ftps", True),
    ],
)
def test_find_flag(resource, subcommand, word, name, takes_value):
    flag = sub(resource, subcommand).find_flag(word)
    assert flag is not None and flag.name == name and flag.takes_value == takes_value


@pytest.mark.parametrize(
    ("resource", "subcommand", "word"),
    [
        ("server", "list", "-y"),
        ("dns", "list", "--zone"),
        ("server", "list", "--selector"),
        ("ipv6addr", "read", "--ipv6addr"),
        ("interface", "list", "--packet-filter-ids"),
        ("server", "update", "-f"),
        ("rest", "request", "-o"),
        ("config", "list", "--parameters"),
    ],
)
def test_find_flag_absent(resource, subcommand, word):
    assert sub(resource, subcommand).find_flag(word) is None


def test_sic_flag_names_and_required_marks():
    assert sub("ipv6addr", "create").find_flag("--i-pv6-addr") == Flag(
        "--i-pv6-addr", (), True, True, "string", "IPv6Addr", None, "required,ipv6", "string"
    )
    assert sub("interface", "list").find_flag("--packet-filer-ids").required is False
    assert sub("server", "create").find_flag("--name").required
    assert sub("server", "list").find_flag("--zone").required


def test_required_flags_with_a_default_in_code_are_not_required():
    create = sub("server", "create")
    assert [f.name for f in create.flags if f.required] == ["--name", "--zone"]
    # marked required in usacloud, but newCreateParameter() fills them in
    assert not create.find_flag("--cpu").required and not create.find_flag("--commitment").required
    # a default on the enclosing struct (HealthCheck) covers its fields
    assert [f.name for f in sub("proxy-lb", "create").flags if f.required] == ["--name"]
    assert [f.name for f in sub("switch", "create").flags if f.required] == ["--name", "--zone"]


def test_flag_values_and_allowed_values():
    create = sub("server", "create")
    assert create.find_flag("--cpu").value == "int"
    assert create.find_flag("--tags").value == "strings"
    assert create.find_flag("--disk-source-archive-id").value == "id"
    assert create.find_flag("--disk-size").field == "Disk.SizeGB"
    assert create.find_flag("--commitment").options == ("standard", "dedicatedcpu")
    # the tree prints the OS types cut short ("..."): the table has them in full
    os_types = sub("disk", "create").find_flag("--os-type").options
    assert os_types[:3] == ("almalinux", "almalinux10", "almalinux9") and "kusanagi" in os_types
    assert "centos" not in os_types
    # an open set ("shared", "disconnected" or a switch ID) is not a closed list
    assert create.find_flag("--network-interface-upstream").options is None
    assert sub("server", "list").find_flag("--output-type").options == ("table", "json", "yaml")


@pytest.mark.parametrize(
    ("resource", "subcommand", "confirm", "kind", "selector", "zone", "output", "input_", "read_only", "destructive"),
    [
        ("server", "list", False, "read", "none", True, True, True, True, False),
        ("server", "delete", True, "delete", "multi", True, False, True, False, True),
        ("server", "boot", True, "power", "multi", True, False, True, False, True),
        ("server", "ssh", False, "connect", "single", True, False, True, False, False),
        ("server", "wait-until-ready", False, "wait", "multi", True, False, True, True, False),
        ("dns", "create", True, "create", "none", False, True, True, False, False),
        ("bridge", "disconnect-switch", True, "disruptive", "single", True, False, True, False, False),
        ("ipaddress", "read", False, "read", "none", True, True, True, True, False),
        ("rest", "request", False, "request", "other", False, False, False, False, False),
        ("config", "list", False, "local-read", "none", False, False, False, True, False),
        ("config", "delete", True, "delete", "other", False, False, False, False, True),
        ("proxy-lb", "renew-lets-encrypt-cert", True, "op", "multi", False, False, True, False, False),
    ],
)
def test_subcommand_properties(
    resource, subcommand, confirm, kind, selector, zone, output, input_, read_only, destructive
):
    s = sub(resource, subcommand)
    assert (s.confirm, s.kind, s.selector) == (confirm, kind, selector)
    assert (s.has_zone, s.has_output, s.has_input) == (zone, output, input_)
    assert (s.read_only, s.destructive) == (read_only, destructive)
    assert (s.find_flag("-y") is not None) == confirm


def test_rest_request_has_only_query_output_flags():
    s = sub("rest", "request")
    assert s.find_flag("--query") and s.find_flag("--query-driver")
    assert s.find_flag("--format") is None


# -- resolve ----------------------------------------------------------------------------

R = "root resource resource_index resource_word subcommand subcommand_index subcommand_word used_default positionals"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ("usacloud", (None, None, None, None, None, None, None, False, ())),
        ("usacloud server list", (None, "server", 1, "server", "list", 2, "list", False, ())),
        ("usacloud iaas server list", ("iaas", "server", 2, "server", "list", 3, "list", False, ())),
        ("/usr/bin/usacloud iaas iso-image ls", ("iaas", "cdrom", 2, "iso-image", "list", 3, "ls", False, ())),
        ("usacloud --zone tk1v server ls -o json", (None, "server", 3, "server", "list", 4, "ls", False, ())),
        (
            "usacloud server --zone=tk1v delete -y web 123",
            (None, "server", 1, "server", "delete", 3, "delete", False, ("web", "123")),
        ),
        ("usacloud --profile p --trace server read 1", (None, "server", 4, "server", "read", 5, "read", False, ("1",))),
        ("usacloud coupon", (None, "coupon", 1, "coupon", "list", None, None, True, ())),
        ("usacloud coupon -o json", (None, "coupon", 1, "coupon", "list", None, None, True, ())),
        ("usacloud auth-status", (None, "auth-status", 1, "auth-status", "read", None, None, True, ())),
        ("usacloud rest https://x/y", (None, "rest", 1, "rest", "request", None, None, True, ("https://x/y",))),
        ("usacloud rest -X delete /server/1", (None, "rest", 1, "rest", "request", None, None, True, ("/server/1",))),
        (
            "usacloud rest request -d '{}' /server",
            (None, "rest", 1, "rest", "request", 2, "request", False, ("/server",)),
        ),
        ("usacloud config", (None, "config", 1, "config", "edit", None, None, True, ())),
        ("usacloud profile use prod", (None, "config", 1, "profile", "use", 2, "use", False, ("prod",))),
        ("usacloud server foo bar", (None, "server", 1, "server", None, 2, "foo", False, ("bar",))),
        ("usacloud server", (None, "server", 1, "server", None, None, None, False, ())),
        ("usacloud serverr list", (None, None, 1, "serverr", None, None, None, False, ("list",))),
        ("usacloud ipv4 list", (None, None, 1, "ipv4", None, None, None, False, ("list",))),
        ("usacloud iaas config list", ("iaas", None, 2, "config", None, None, None, False, ("list",))),
        ("usacloud version", ("version", None, None, None, None, None, None, False, ())),
        ("usacloud completion bash", ("completion", None, None, None, None, None, None, False, ("bash",))),
        ("usacloud help server list", ("help", None, None, None, None, None, None, False, ("server", "list"))),
        ("usacloud iaas", ("iaas", None, None, None, None, None, None, False, ())),
        ("usacloud -v", (None, None, None, None, None, None, None, False, ())),
        ("usacloud server shutdown -fy 1", (None, "server", 1, "server", "shutdown", 2, "shutdown", False, ("1",))),
        (
            "usacloud server ssh -i key -l root -p 22 web",
            (None, "server", 1, "server", "ssh", 2, "ssh", False, ("web",)),
        ),
        (
            "usacloud server delete -y -- -weird",
            (None, "server", 1, "server", "delete", 2, "delete", False, ("-weird",)),
        ),
        ("usacloud -- server list", (None, None, None, None, None, None, None, False, ("server", "list"))),
        ("usacloud archive list --selector name=x", (None, "archive", 1, "archive", "list", 2, "list", False, ())),
        (
            "usacloud server list --zones tk1v,is1a --zone all",
            (None, "server", 1, "server", "list", 2, "list", False, ()),
        ),
        ("usacloud disk list --zone = all", (None, "disk", 1, "disk", "list", 2, "list", False, ("all",))),
        (
            "usacloud server ls --names web --max 10 foo",
            (None, "server", 1, "server", "list", 2, "ls", False, ("foo",)),
        ),
        (
            "usacloud ipv6addr read --i-pv6-addr 2001:db8::1",
            (None, "ipv6addr", 1, "ipv6addr", "read", 2, "read", False, ()),
        ),
        (
            # before the subcommand only root flags are known: --version is the root's bool flag,
            # so cobra takes "2" as the subcommand word (and finds none)
            "usacloud vpc-router --version 2 create",
            (None, "vpc-router", 1, "vpc-router", None, 3, "2", False, ("create",)),
        ),
        (
            # an unknown flag before the command swallows the next word, as in cobra: note create runs
            "usacloud -q coupon note create -y --name x",
            (None, "note", 3, "note", "create", 4, "create", False, ()),
        ),
        (
            "usacloud server -o json delete -y web",
            (None, "server", 1, "server", "delete", 4, "delete", False, ("web",)),
        ),
    ],
)
def test_resolve(argv, expected):
    inv = resolve(shlex.split(argv))
    got = (
        inv.root,
        inv.resource and inv.resource.name,
        inv.resource_index,
        inv.resource_word,
        inv.subcommand and inv.subcommand.name,
        inv.subcommand_index,
        inv.subcommand_word,
        inv.used_default,
        inv.positionals,
    )
    assert dict(zip(R.split(), got, strict=True)) == dict(zip(R.split(), expected, strict=True))
    assert inv.binary_index == 0


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ("usacloud server list -ojson", [("-o", "--output-type", "json", None)]),
        ("usacloud server list -o=yaml", [("-o", "--output-type", "yaml", None)]),
        ("usacloud server list --out=tsv", [("--out", "--output-type", "tsv", None)]),
        ("usacloud server list --out tsv", [("--out", "--output-type", "tsv", 4)]),
        ("usacloud server delete -qy 1", [("-q", None, None, None), ("-y", "--assumeyes", None, None)]),
        ("usacloud server shutdown -fy 1", [("-f", "--force-shutdown", None, None), ("-y", "--assumeyes", None, None)]),
        ("usacloud server list --zone", [("--zone", "--zone", None, None)]),
        ("usacloud server list --assumeyes=false", [("--assumeyes", None, "false", None)]),
        ("usacloud --zones=tk1v server list", [("--zones", "--zones", "tk1v", None)]),
        ("usacloud dns list --zone is1a", [("--zone", None, "is1a", 4)]),
        (
            "usacloud auto-scale create --zones is1a -y",
            [("--zones", "--zones", "is1a", 4), ("-y", "--assumeyes", None, None)],
        ),
    ],
)
def test_resolve_flags(argv, expected):
    inv = resolve(shlex.split(argv))
    got = [(u.name, u.flag and u.flag.name, u.value, u.value_index) for u in inv.flags]
    assert got == expected


def test_local_zones_flag_shadows_global():
    inv = resolve(["usacloud", "auto-scale", "create", "--zones", "is1a"])
    assert inv.flags[0].flag.required  # auto-scale's own --zones, not the global one
    inv = resolve(["usacloud", "server", "list", "--zones", "is1a"])
    assert inv.flags[0].flag in GLOBAL_FLAGS


def test_flag_uses_by_canonical_name():
    inv = resolve(shlex.split("usacloud server list --out json -q --max 3"))
    assert [u.value for u in inv.flag_uses("--output-type")] == ["json"]
    assert [u.value for u in inv.flag_uses("--count")] == ["3"]
    assert inv.flag_uses("--zone") == ()


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["usacloud"],
        [""],
        ["usacloud", ""],
        ["usacloud", "-"],
        ["usacloud", "--"],
        ["usacloud", "-o"],
        ["usacloud", "--="],
        ["usacloud", "-="],
        ["usacloud", "server", "list", "-"],
        ["usacloud", None],
        ["usacloud", "rest"],
        ["usacloud", "iaas", "iaas", "iaas"],
        ["usacloud", "server", "list", "---x"],
        None,
        (),
        "usacloud",
    ],
)
def test_resolve_never_raises(argv):
    inv = resolve(argv)
    assert inv.binary_index == 0


def test_all_subcommands_resolve_at_both_paths():
    for res, s in SUBS:
        for argv in (["usacloud", res.name, s.name], ["usacloud", "iaas", res.name, s.name]):
            inv = resolve(argv)
            if res.location == "root" and argv[1] == "iaas":
                assert inv.resource is None and inv.resource_word == res.name
            else:
                assert (inv.resource, inv.subcommand, inv.used_default) == (res, s, False)


def test_module_exposes_root_commands():
    assert c.ROOT_COMMANDS == ("iaas", "completion", "version", "update-self", "help")
