"""The offline command checker: exact findings for good and bad usacloud commands."""

from __future__ import annotations

import random
import shlex

import pytest

from pytest_usacloud_sandbox.usacloud.check import ROOT_FLAG_VALUES, Finding, check_command, levenshtein, suggest
from pytest_usacloud_sandbox.usacloud.commands import GLOBAL_FLAGS, all_resources, resolve

#: An SSH public key in the authorized_keys form (32 bytes of counting, not a real key's).
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g ci@example"

SEVERITY = {
    "unknown-resource": "error",
    "unknown-subcommand": "error",
    "missing-subcommand": "error",
    "v0-removed": "error",
    "v0-selector": "error",
    "v0-output-type": "error",
    "zone-on-global": "error",
    "bad-output-type": "error",
    "unknown-flag": "error",
    "missing-value": "error",
    "spaced-equals": "error",
    "bad-zone": "error",
    "bad-value": "error",
    "missing-target": "error",
    "too-many-targets": "error",
    "bad-argument": "error",
    "missing-assumeyes": "error",  # a warning when --parameters may hold AssumeYes
    "deprecated-alias": "warning",
    "deprecated-command": "warning",
    "deprecated-flag": "warning",
    "partial-name-match": "warning",
    "zone-all": "warning",
    "rest-write": "warning",
    "self-update": "warning",
    "global-not-sandboxed": "warning",
    "ignored-argument": "warning",
    "missing-command": "error",
    "missing-required": "error",
    "invalid-argument": "error",
    "bad-parameters": "error",
    "parameters-unread": "warning",
    "no-op": "error",
}

ID = "123456789012"

CASES = [
    # fine
    ("usacloud version", []),
    ("usacloud -v", []),
    ("usacloud -h", ["no-op"]),
    ("usacloud completion bash", []),
    ("usacloud help server", []),
    ("usacloud server list --zone tk1v", []),
    ("usacloud iaas server list --zone=tk1v -o json", []),
    ("usacloud server ls --out json --max 10 --offset 5 --names web", []),
    (f"usacloud server delete -y --zone tk1v {ID}", []),
    (f"usacloud server boot --assumeyes=true {ID}", []),
    (f"usacloud server shutdown -fy {ID}", []),
    ("usacloud server delete -y --argument-match-mode exact web", []),
    ("usacloud router list --zone tk1v", []),
    ("usacloud coupon", []),
    ("usacloud coupon -o json", []),
    ("usacloud config list", []),
    ("usacloud rest /server", []),
    ("usacloud rest -X get /server", []),
    ("usacloud ipv6addr read --zone tk1v --i-pv6-addr 2001:db8::1", []),
    ("usacloud interface list --packet-filer-ids 1", []),
    ("usacloud server list --query-driver jq --query '.[]'", []),
    # usacloud prints something, runs nothing and exits 0: the command does no work
    ("usacloud server create --generate-skeleton", ["no-op"]),
    ("usacloud switch create -y --name sw --skeleton", ["no-op"]),
    ("usacloud switch update -y sw --description d --example", ["no-op"]),
    ("usacloud switch create -y --name sw --generate-skeleton=false", []),
    ("usacloud switch create -y --name sw --example=0 --help=false", []),
    ("usacloud switch create -y --name sw -h --help=f", []),
    ("usacloud server delete -y --parameters p.json 1", ["parameters-unread"]),
    ('usacloud switch create -y --parameters \'{"Name": "sw", "Zone": "tk1v"}\'', []),
    ('usacloud switch create -y --zone tk1v --parameters \'{"Name": "sw"}\'', []),
    ("usacloud server ssh -i ~/.ssh/id -l root web", []),
    (f"usacloud server monitor-cpu --start 2024-01-01T00:00:00Z {ID}", []),
    ("usacloud --zones tk1v server list --zone=all", []),
    ("usacloud --profile ci --fake --fake-store /tmp/f.json server list", []),
    # unknown words, with suggestions
    ("usacloud serverr list", ["unknown-resource"]),
    ("usacloud server foo", ["unknown-subcommand"]),
    ("usacloud server delet -y 1", ["unknown-subcommand"]),
    ("usacloud ssh-key generate", ["unknown-subcommand"]),
    ("usacloud server", ["missing-subcommand"]),
    ("usacloud", ["missing-command"]),
    ("usacloud iaas", ["missing-command"]),
    ("usacloud iaas servr list", ["unknown-resource"]),
    ("usacloud iaas config list", ["unknown-resource"]),
    # v0 forms
    ("usacloud ipv4 list", ["v0-removed"]),
    ("usacloud product-server list", ["v0-removed"]),
    ("usacloud product-disk list", ["v0-removed"]),
    ("usacloud summary", ["v0-removed"]),
    ("usacloud object-storage list", ["v0-removed"]),
    ("usacloud ojs bucket list", ["v0-removed"]),
    ("usacloud server list --selector name=web", ["v0-selector"]),
    ("usacloud server list --output-type csv", ["v0-output-type"]),
    ("usacloud server list -o tsv", ["v0-output-type"]),
    ("usacloud server list --out=csv", ["v0-output-type"]),
    ("usacloud archive list --output-type csv --selector name=x", ["v0-selector"]),  # pflag stops there
    ("usacloud ipv4 list --selector name=x", ["v0-removed", "v0-selector"]),
    ("usacloud disk list --zone = all", ["spaced-equals"]),
    # zones
    ("usacloud dns list --zone tk1v", ["zone-on-global"]),
    ("usacloud --zone is1a ssh-key list", ["zone-on-global"]),
    ("usacloud proxy-lb list --zone=all", ["zone-on-global"]),
    ("usacloud auth-status --zone tk1v", ["deprecated-command", "zone-on-global"]),
    ("usacloud server list --zone=all", ["zone-all"]),
    ("usacloud server list --zone tk1x", ["bad-zone"]),
    ("usacloud rest --zone all /server", ["bad-zone"]),
    ("usacloud server list --zone", ["missing-value"]),
    # confirmation and targets
    ("usacloud server delete web", ["missing-assumeyes", "partial-name-match"]),
    ("usacloud server create --name x --cpu 1 --memory 1", ["missing-assumeyes"]),
    ("usacloud config delete old", ["missing-assumeyes"]),
    ("usacloud server list -y", ["unknown-flag"]),
    ("usacloud server list -qy", ["unknown-flag"]),
    ("usacloud server read", ["missing-target"]),
    ("usacloud server read a b", ["too-many-targets"]),
    ("usacloud server boot -y", ["missing-target"]),
    ("usacloud server list foo", ["ignored-argument"]),
    ("usacloud ipaddress read 192.0.2.1", ["missing-required", "ignored-argument"]),
    ("usacloud ipaddress read --ipaddress 192.0.2.1", []),
    ("usacloud rest", ["missing-target"]),
    # flags and values
    ("usacloud server list -o xml", ["bad-output-type"]),
    ("usacloud server list --argument-match-mode fuzzy", ["bad-value"]),
    # usacloud's Config.Validate: exactly "", partial or exact, case-sensitive; it runs before skeletons
    ("usacloud switch list --argument-match-mode EXACT", ["bad-value"]),
    ("usacloud switch list --argument-match-mode ''", []),
    ("usacloud --argument-match-mode Partial switch list", ["bad-value"]),
    ("usacloud switch read --argument-match-mode X", ["bad-value"]),
    ("usacloud switch create -y --name x --argument-match-mode X --generate-skeleton", ["bad-value"]),
    ("usacloud --argument-match-mode X version", []),
    ("usacloud ipv6addr read --ipv6addr 2001:db8::1", ["unknown-flag"]),
    ("usacloud interface list --packet-filter-ids 1", ["unknown-flag"]),
    ("usacloud version --zone tk1v", ["unknown-flag"]),
    ("usacloud server update --force -y 1", ["unknown-flag"]),
    # deprecated names and hazards (warnings)
    ("usacloud iso-image list --zone tk1v", ["deprecated-alias"]),
    ("usacloud iaas startup-script list", ["deprecated-alias"]),
    ("usacloud auth-status", ["deprecated-command"]),
    ("usacloud server delete -y web", ["partial-name-match"]),
    ("usacloud iaas server boot --zone tk1v -y web", ["partial-name-match"]),
    ("usacloud rest -X delete /zone/tk1v/api/cloud/1.1/server/1", ["rest-write"]),
    ("usacloud rest request --method=POST -d '{}' /server", ["rest-write"]),
    (f"usacloud ssh-key create --name k --public-key '{PUBLIC_KEY}' -y", ["global-not-sandboxed"]),
    ("usacloud ssh-key create --name k --public-key 'ssh-ed25519 AAA' -y", ["bad-value", "global-not-sandboxed"]),
    ("usacloud web-accelerator delete-cache --url https://example.com/ -y", ["global-not-sandboxed"]),
    ("usacloud container-registry update --access-level readonly -y 1", ["deprecated-flag", "global-not-sandboxed"]),
    ("usacloud update-self", ["self-update"]),
    ("usacloud completion", ["bad-argument"]),
    ("usacloud completion tcsh", ["bad-argument"]),
    # zones as the script wrote them (before the sandbox pins them)
    ("usacloud server list --zone is1z", ["bad-zone"]),
    ("usacloud server list --zone=is1a", []),
    ("usacloud server list --zone = tk1v", ["spaced-equals"]),
    ("usacloud server list --zone is1a --zone bogus", ["bad-zone"]),
    ("usacloud --zones tk1v server list --zone is1a", ["bad-zone"]),
    ("usacloud server list --zone bogus --zone is1a", []),  # pflag keeps the last
    # required flags, allowed values, numbers
    ("usacloud switch create -y", ["missing-required"]),
    ("usacloud switch create -y --name ''", ["missing-required"]),
    ("usacloud ssh-key create -y --name k", ["missing-required", "global-not-sandboxed"]),
    ("usacloud server create -y --name x", []),  # --cpu, --memory... have defaults in code
    ("usacloud server create -y --name x --commitment bogus --generation g9", ["bad-value", "bad-value"]),
    ("usacloud disk create -y --name d --os-type centos", ["bad-value"]),
    ("usacloud disk create -y --name d --os-type ubuntu2404", []),
    ("usacloud internet create -y --name r --band-width 0x64", []),  # Go's syntax: 100
    ("usacloud internet create -y --name r --band-width 0100", ["bad-value"]),  # Go's octal: 64
    ("usacloud internet create -y --name r --band-width 120", ["bad-value"]),
    ("usacloud auto-backup create -y --name b --disk-id 1 --max-backup-num 3 --weekdays mon,sun", []),
    ("usacloud auto-backup create -y --name b --disk-id 1 --max-backup-num 3 --weekdays mon,sno", ["bad-value"]),
    ("usacloud server create -y --name x --cpu abc", ["invalid-argument"]),
    ("usacloud server create -y --name x --cpu 0x10", []),
    ("usacloud server list --quiet=yes", ["invalid-argument"]),
    ("usacloud server list --quiet=false", []),
    ("usacloud rest -X GET /zone/tk1v/api/cloud/1.1/server", []),
    ("usacloud rest -X Get /zone/tk1v/api/cloud/1.1/server", ["bad-value"]),
    ("usacloud config create", ["missing-required"]),
    ("usacloud config create ci", []),
    # --parameters
    ('usacloud server list --parameters \'{"Names": ["x"]}\'', ["missing-required"]),
    ('usacloud server list --parameters \'{"Zone": "is1a"}\'', ["bad-zone"]),
    ('usacloud server list --parameters \'{"Zone": "all"}\'', []),
    ("usacloud server list --parameters '{broken'", ["bad-parameters"]),
    ('usacloud switch create --zone tk1v --parameters \'{"Name": "x"}\'', ["missing-assumeyes"]),
    ("usacloud switch create -y --zone tk1v --parameters '{}'", ["missing-required"]),
    ("usacloud server delete -y --zone tk1v --parameters '{}'", ["missing-target"]),
    # help wins over everything usacloud validates, not over cobra and pflag errors
    ("usacloud server list -o csv --help", ["no-op"]),
    ("usacloud server foo -h", ["no-op"]),
    ("usacloud server iaas list -h", ["no-op"]),
    ("usacloud completion -h", ["no-op"]),
    ("usacloud switch create -h", ["no-op"]),
    ("usacloud servr list -h", ["unknown-resource"]),
    ("usacloud server list --bogus -h", ["unknown-flag"]),
    # pflag stops at the first bad flag: one error, -ID is never split into -I -D
    ("usacloud server list --sort -ID", ["unknown-flag"]),
    ("usacloud server list -Z -Q --bogus", ["unknown-flag"]),
]


@pytest.mark.parametrize(("command", "codes"), CASES, ids=[c for c, _ in CASES])
def test_check_command_codes(command, codes):
    findings = check_command(shlex.split(command))
    assert sorted(f.code for f in findings) == sorted(codes)
    for f in findings:
        assert f.severity == SEVERITY[f.code], f
        assert f.message and "\n" not in f.message


#: usacloud 1.22.8 in fake mode (settings in its environment, then the command): whether it refuses the
#: settings (`validation error:`, exit 0) or runs.
SETTINGS_CASES = [
    ({"SAKURACLOUD_ARGUMENT_MATCH_MODE": "Exact"}, "switch list -q", "SAKURACLOUD_ARGUMENT_MATCH_MODE"),
    ({"SAKURACLOUD_ARGUMENT_MATCH_MODE": "Exact"}, "switch list -q --argument-match-mode exact", None),
    ({"SAKURACLOUD_ARGUMENT_MATCH_MODE": "Exact"}, "switch list -q --argument-match-mode ''", None),
    (
        {"SAKURACLOUD_ARGUMENT_MATCH_MODE": "exact"},
        "switch list -q --argument-match-mode Exact",
        "--argument-match-mode",
    ),
    ({"SAKURA_ARGUMENT_MATCH_MODE": "exact", "SAKURACLOUD_ARGUMENT_MATCH_MODE": "Exact"}, "switch list", None),
    ({"SAKURA_ARGUMENT_MATCH_MODE": "Exact", "SAKURACLOUD_ARGUMENT_MATCH_MODE": "exact"}, "switch list", "SAKURA_"),
    ({"SAKURA_ARGUMENT_MATCH_MODE": "", "SAKURACLOUD_ARGUMENT_MATCH_MODE": "bad"}, "switch list", "SAKURACLOUD_"),
    ({"SAKURACLOUD_DEFAULT_OUTPUT_TYPE": "JSON"}, "switch list -q", "SAKURACLOUD_DEFAULT_OUTPUT_TYPE"),
    ({"SAKURACLOUD_DEFAULT_OUTPUT_TYPE": "csv"}, "switch list -q -o json", "SAKURACLOUD_DEFAULT_OUTPUT_TYPE"),
    ({"SAKURACLOUD_DEFAULT_OUTPUT_TYPE": "yaml"}, "switch list", None),
    ({"SAKURACLOUD_DEFAULT_QUERY_DRIVER": "gojq"}, "switch list -q", "SAKURACLOUD_DEFAULT_QUERY_DRIVER"),
    ({"SAKURACLOUD_DEFAULT_QUERY_DRIVER": "JQ"}, "switch list --query-driver jq", "SAKURACLOUD_DEFAULT_QUERY_DRIVER"),
    ({"SAKURACLOUD_DEFAULT_QUERY_DRIVER": "jq"}, "switch list", None),
    ({"SAKURACLOUD_DEFAULT_OUTPUT_TYPE": "csv"}, "switch create --name x", "SAKURACLOUD_DEFAULT_OUTPUT_TYPE"),
    ({"SAKURACLOUD_DEFAULT_OUTPUT_TYPE": "csv"}, "version", None),
]


@pytest.mark.parametrize(("env", "command", "word"), SETTINGS_CASES)
def test_usacloud_settings_are_validated_as_usacloud_does(env, command, word):
    findings = check_command(["usacloud", *shlex.split(command)], env=env)
    if word is None:
        assert [f for f in findings if f.severity == "error"] == []
        return
    (finding,) = findings
    assert (finding.severity, finding.code) == ("error", "bad-value") and finding.word.startswith(word)
    assert "case-sensitive" in finding.message and "runs nothing" in finding.message


def test_every_bad_setting_is_reported_in_usaclouds_order():
    env = {"SAKURACLOUD_DEFAULT_OUTPUT_TYPE": "csv", "SAKURACLOUD_DEFAULT_QUERY_DRIVER": "x"}
    findings = check_command(["usacloud", "switch", "list", "--argument-match-mode", "y"], env=env)
    assert [f.word for f in findings] == [
        "SAKURACLOUD_DEFAULT_OUTPUT_TYPE=csv",
        "--argument-match-mode",
        "SAKURACLOUD_DEFAULT_QUERY_DRIVER=x",
    ]
    assert "`validation error: profile.DefaultOutputType: must be one of [table/json/yaml]`" in findings[0].message


def test_enough_cases():
    assert len(CASES) >= 40
    assert {code for _, codes in CASES for code in codes} == set(SEVERITY)


@pytest.mark.parametrize(
    ("command", "code", "word", "fix"),
    [
        ("usacloud ipv4 list", "v0-removed", "ipv4", "ipaddress"),
        ("usacloud product-disk list", "v0-removed", "product-disk", "disk-plan"),
        ("usacloud product-internet list", "v0-removed", "product-internet", "internet-plan"),
        ("usacloud summary", "v0-removed", "summary", None),
        ("usacloud serverr list", "unknown-resource", "serverr", "server"),
        ("usacloud iaas servr list", "unknown-resource", "servr", "server"),
        ("usacloud server delet -y 1", "unknown-subcommand", "delet", "delete"),
        ("usacloud server list --selector name=web", "v0-selector", "--selector", "web"),
        ("usacloud server list --out=csv", "v0-output-type", "--out=csv", "json"),
        ("usacloud dns list --zone tk1v", "zone-on-global", "--zone", "remove --zone"),
        ("usacloud server delete 1", "missing-assumeyes", "delete", "add -y"),
        ("usacloud ipv6addr read --ipv6addr x", "unknown-flag", "--ipv6addr", "--i-pv6-addr"),
        ("usacloud interface list --packet-filter-ids 1", "unknown-flag", "--packet-filter-ids", "--packet-filer-ids"),
        ("usacloud server list --nmes web", "unknown-flag", "--nmes", "--names"),
        ("usacloud server list -y", "unknown-flag", "-y", "remove -y"),
        ("usacloud iso-image list", "deprecated-alias", "iso-image", "cdrom"),
        ("usacloud startup-script list", "deprecated-alias", "startup-script", "note"),
        ("usacloud server delete -y web", "partial-name-match", "web", "--argument-match-mode exact"),
        ("usacloud server list --zone=all", "zone-all", "--zone=all", "--zone=tk1v"),
        ("usacloud disk list --zone = all", "spaced-equals", "--zone", "--zone=all"),
        ("usacloud server list --zone tk1x", "bad-zone", "--zone", "tk1v"),
        ("usacloud server list -o JSON", "bad-output-type", "-o", "json"),
    ],
)
def test_finding_word_and_fix(command, code, word, fix):
    found = [f for f in check_command(shlex.split(command)) if f.code == code]
    assert len(found) == 1
    assert (found[0].word, found[0].fix) == (word, fix)


@pytest.mark.parametrize(
    ("command", "suggestion"),
    [
        ("usacloud server list --name web", "--names"),  # the subcommand's own flag, not --fake
        ("usacloud cdrom create -y --name x --iso-file f", None),  # not --profile: not close
        ("usacloud server create -y --name x --desc d", "--description"),  # the start of a flag
        ("usacloud server list --zon tk1v", "--zone"),
        ("usacloud server list --output-tyep json", "--output-type"),
        ("usacloud server list --profil p", "--profile"),  # a root flag when nothing closer
        ("usacloud server list --frobnicate", None),
    ],
)
def test_did_you_mean_only_when_close(command, suggestion):
    (f,) = check_command(shlex.split(command))
    assert (f.code, f.fix) == ("unknown-flag", suggestion)
    assert ("did you mean" in f.message) == (suggestion is not None)
    if suggestion:
        assert f.message.endswith(f"did you mean {suggestion}?")


def test_one_error_per_bad_flag_then_stop():
    (f,) = check_command(shlex.split("usacloud server list --sort -ID"))
    assert (f.code, f.word) == ("unknown-flag", "--sort")
    (f,) = check_command(shlex.split("usacloud server list -qZX --bogus"))
    assert (f.code, f.word, f.message) == ("unknown-flag", "-qZX", "unknown flag `-Z`")


def test_allowed_values_in_usacloud_s_words_with_a_close_one():
    (f,) = check_command(shlex.split("usacloud disk create -y --name d --os-type ubunt"))
    assert (f.code, f.word, f.fix) == ("bad-value", "--os-type", "ubuntu")
    assert f.message.startswith("validation error: --os-type: oneof=almalinux almalinux10 ")
    assert f.message.endswith(" kusanagi — `--os-type` does not take `ubunt`; did you mean ubuntu?")
    (f,) = check_command(shlex.split("usacloud disk create -y --name d --os-type centos"))
    assert f.fix is None and "did you mean" not in f.message
    (f,) = check_command(shlex.split("usacloud server create -y --name x --commitment standrd"))
    assert f.message == (
        "validation error: --commitment: oneof=standard dedicatedcpu — "
        "`--commitment` does not take `standrd`; did you mean standard?"
    )


def test_a_value_written_with_spaced_equals_is_not_echoed():
    (f,) = check_command(shlex.split("usacloud server create -y --name x --disk-edit-password = hunter2-secret"))
    assert f.code == "spaced-equals" and "hunter2" not in f.message + f.fix + f.word
    (f,) = check_command(shlex.split("usacloud server list --zone = is1a"))
    assert f.fix == "--zone=is1a"  # zone names are no secret


def test_a_zone_outside_zones_is_named_as_such():
    (f,) = check_command(shlex.split("usacloud --zones tk1v server list --zone is1a"))
    assert f.message.startswith("a zone `--zones` does not permit `is1a`: one of all, tk1v")


def test_required_flags_name_the_subcommand_and_the_flag():
    findings = check_command(shlex.split("usacloud certificate-authority create -y --name ca"))
    assert [f.fix for f in findings if f.code == "missing-required"] == [
        "--common-name",
        "--country",
        "--organization",
        "--validity-period-hours",
    ]
    (f,) = check_command(shlex.split("usacloud switch create -y"))
    assert f.message == "validation error: --name: required — `switch create` needs `--name`"


def test_suggestions_are_in_the_message():
    (f,) = check_command(["usacloud", "server", "lst"])
    assert f.code == "unknown-subcommand" and "list" in f.message and f.fix == "list"
    (f,) = check_command(["usacloud", "nfss", "list"])
    assert "nfs" in f.message


def test_assumeyes_false_does_not_confirm():
    codes = [f.code for f in check_command(["usacloud", "server", "delete", "--assumeyes=false", "1"])]
    assert codes == ["missing-assumeyes"]


def test_parameters_cannot_carry_assumeyes_or_targets():
    (f,) = check_command(["usacloud", "server", "delete", "--zone", "tk1v", "--parameters", "{}", "1"])
    assert (f.code, f.severity) == ("missing-assumeyes", "error") and "--parameters cannot carry it" in f.message
    (f,) = check_command(["usacloud", "server", "read", "--zone", "tk1v", "--parameters", "{}"])
    assert (f.code, f.severity) == ("missing-target", "error")


def valid_value(gen, flag) -> str:
    """A value usacloud accepts for ``flag`` (its rules' inside, from tools/gen_mutants.py)."""
    if flag.name == "--zone":
        return "tk1v"
    if flag.name == "--parameters":
        return "{}"
    if flag.name == "--public-key":
        return gen.PUBLIC_KEY
    if flag.name in ROOT_FLAG_VALUES:
        return ROOT_FLAG_VALUES[flag.name][0]
    return gen.inside(flag)


def valid_command(gen, res, sub) -> list[str]:
    """The subcommand written correctly: its required flags, zone, -y and target."""
    argv = gen.base_command(res, sub)
    cut = argv.index(sub.name) + 1
    return ["usacloud", *argv[:cut], *(["--zone", "tk1v"] if sub.has_zone else []), *argv[cut:]]


def flag_forms(gen, flag) -> list[list[str]]:
    """Every way pflag accepts to write ``flag`` with a valid value."""
    forms = []
    value = valid_value(gen, flag)
    for name in flag.names:
        if not flag.takes_value:
            forms += [[name], [f"{name}=true"]] + ([[f"{name}=0"]] if name.startswith("--") else [])
        elif name.startswith("--"):
            forms += [[name, value], [f"{name}={value}"]]
        else:
            forms += [[name, value], [name + value], [f"{name}={value}"]]
    return forms


def usacloud_errors(argv: list[str], base_dir=None) -> list[str]:
    """What usacloud prints for each error the check finds (the words before the explanation)."""
    findings = check_command(argv, base_dir)
    return [f.message.removeprefix("validation error: ").split(" — ")[0] for f in findings if f.severity == "error"]


def test_every_subcommand_passes_when_written_correctly(gen_mutants, tmp_path):
    """... up to its service's refusal where the written command lacks what only the service wants."""
    (tmp_path / gen_mutants.FILE).write_text("x")
    for res in all_resources():
        for sub in res.subcommands:
            argv = valid_command(gen_mutants, res, sub)
            assert usacloud_errors(argv, tmp_path) == (gen_mutants.service_lines(res, sub, argv) or []), argv


def test_no_false_rejection_over_every_valid_flag_form(gen_mutants, tmp_path):
    """Each flag of each subcommand, in each spelling pflag accepts, on a correct command: no error
    (but the service's refusal where the flag makes one, such as --no-wait with --enable-ipv6)."""
    (tmp_path / gen_mutants.FILE).write_text("x")
    checked, rejected, noops = 0, [], []
    for res in all_resources():
        for sub in res.subcommands:
            crashing = [s for s, tag in gen_mutants.STRUCTS.get((res.name, sub.name), {}).items() if "dive" in tag]
            for flag in sub.flags:
                if any(flag.field.startswith(s + ".") for s in crashing):
                    continue  # usacloud 1.22.8 panics on any of these (tests/test_mutants.py holds that)
                # the flag written once (a list flag given twice appends), and with the flags a rule needs
                base = gen_mutants.without_flag(valid_command(gen_mutants, res, sub), flag)
                cut = base.index(sub.name) + 1
                extra = gen_mutants.Mutants.complete(sub, [flag.name, valid_value(gen_mutants, flag)])[2:]
                for form in flag_forms(gen_mutants, flag):
                    form = form + extra
                    for argv in (base[:cut] + form + base[cut:], base + form if "--" not in base else None):
                        if argv is None:
                            continue
                        checked += 1
                        errors = rejections(check_command(argv, tmp_path), argv, flag, noops)
                        said = [e.removeprefix("validation error: ").split(" — ")[0] for e in errors]
                        if said != (gen_mutants.service_lines(res, sub, argv) or []):  # its service's own
                            rejected.append((" ".join(argv), errors))
    for flag in GLOBAL_FLAGS:
        for form in flag_forms(gen_mutants, flag):
            form = [w.replace("a,b", "tk1v") for w in form] if flag.name == "--zones" else form
            for argv in (["usacloud", *form, "server", "list"], ["usacloud", "server", "list", *form]):
                checked += 1
                errors = rejections(check_command(argv), argv, flag, noops)
                if errors:
                    rejected.append((" ".join(argv), errors))
    assert rejected == [], f"{len(rejected)} of {checked} valid forms rejected: {rejected[:20]}"
    assert checked > 11_000
    assert len(noops) > 3000  # -h, --help, --generate-skeleton, --skeleton, --example on every subcommand


#: The flags with which usacloud prints something and runs nothing (exit 0).
PRINT_ONLY = frozenset({"--help", "--generate-skeleton", "--example"})


def rejections(findings, argv, flag, noops: list) -> list[str]:
    """The errors on a valid form. A form that switches on a print-only flag is valid (usacloud does not
    reject it) but does no work: it fails as `no-op` (counted in ``noops``), and nothing else."""
    errors = [f for f in findings if f.severity == "error"]
    on = flag.name in PRINT_ONLY and not any(w.endswith("=0") for w in argv)
    if on and [f.code for f in errors] == ["no-op"]:
        noops.append(argv)
        return []
    return [f.message for f in errors]


def test_finding_is_frozen():
    f = Finding("error", "x", "w", "m", None)
    with pytest.raises(AttributeError):
        f.code = "y"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [
        ("", "", 0),
        ("", "abc", 3),
        ("abc", "abc", 0),
        ("kitten", "sitting", 3),
        ("--ipv6addr", "--i-pv6-addr", 2),
        ("flaw", "lawn", 2),
    ],
)
def test_levenshtein(a, b, d):
    assert levenshtein(a, b) == d == levenshtein(b, a)


def test_suggest():
    assert suggest("lst", ["list", "ls", "delete"]) == ["list", "ls"]
    assert suggest("serverr", ["server", "server-plan", "subnet"]) == ["server"]
    assert suggest("xyzzy", ["server", "disk"]) == []
    assert suggest("list", ["list"]) == []
    assert len(suggest("ab", ["aa", "bb", "ac", "ad", "ae"], limit=2)) == 2


@pytest.mark.parametrize(
    "argv",
    [
        [],
        [""],
        ["usacloud", "-"],
        ["usacloud", "--"],
        ["usacloud", None],
        None,
        ["usacloud", "server", "delete", "-y", "--", "-x"],
        ["usacloud", "-o"],
    ],
)
def test_check_never_raises(argv):
    assert isinstance(check_command(argv), list)


def test_resolve_and_check_fuzz():
    """Random words from usacloud's vocabulary: resolve() and check_command() never raise, and stay sane."""
    vocab = [
        "usacloud",
        "iaas",
        "server",
        "dns",
        "rest",
        "coupon",
        "config",
        "list",
        "delete",
        "read",
        "-y",
        "-o",
        "csv",
        "json",
        "--zone",
        "tk1v",
        "all",
        "=",
        "--zone=all",
        "-qy",
        "--",
        "-",
        "--selector",
        "-X",
        "delete",
        "web",
        ID,
        "completion",
        "update-self",
        "--zones",
        "--parameters",
        "--help",
        "=",
        "help",
        "x",
        "-ojson",
    ]
    rng = random.Random(7)
    for _ in range(3000):
        words = [rng.choice(vocab) for _ in range(rng.randint(0, 9))]
        inv = resolve(words)
        assert all(isinstance(p, str) for p in inv.positionals)
        assert len(inv.positionals) <= max(0, len(words) - 1)
        for f in check_command(words):
            assert f.severity in ("error", "warning") and f.code in SEVERITY


def test_example_and_skeleton_skip_validation_only_when_true():
    for info in ("--example", "--generate-skeleton=true", "--skeleton"):  # they print, run nothing
        assert [f.code for f in check_command(["usacloud", "switch", "create", "-y", info])] == ["no-op"]
    for info in ("--example=false", "--generate-skeleton=0", "--example --example=f"):
        codes = [f.code for f in check_command(["usacloud", "switch", "create", "-y", *info.split()])]
        assert codes == ["missing-required"], info
