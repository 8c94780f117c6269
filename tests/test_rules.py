"""The pieces of the offline check's parameter stage, against their Go originals: pflag's value
syntax (usacloud/pflag.py), go-playground/validator's rules (usacloud/validate.py), the parameter
struct usacloud fills from flags, JSON and defaults (usacloud/fields.py), and the subcommands' own
Validate functions (usacloud/customvalidate.py)."""

from __future__ import annotations

import shlex

import pytest

from pytest_usacloud_sandbox.usacloud import pflag
from pytest_usacloud_sandbox.usacloud.check import Checker, check_command
from pytest_usacloud_sandbox.usacloud.commands import all_resources, find_resource
from pytest_usacloud_sandbox.usacloud.customvalidate import CUSTOM, NOTHING_OFFLINE
from pytest_usacloud_sandbox.usacloud.fields import DEFAULT, Fields
from pytest_usacloud_sandbox.usacloud.params import read_parameters
from pytest_usacloud_sandbox.usacloud.sshkey import authorized_key
from pytest_usacloud_sandbox.usacloud.validate import Context, Value, is_cidrv4, is_fqdn, is_ipv4, is_mac, validate

NO_SIBLINGS = Context(lambda name: None, "/nonexistent")  # `file`: no file exists there


# -- pflag ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "record"),
    [  # encoding/csv's own test table (reader_test.go), first records
        ("a,b,c\n", ["a", "b", "c"]),
        ("a,b\r\nc,d\r\n", ["a", "b"]),
        ("a,b\rc,d\r\n", ["a", "b\rc", "d"]),
        ('"aaa","bb\nb","ccc"\n', ["aaa", "bb\nb", "ccc"]),
        ("a,b,c,", ["a", "b", "c", ""]),
        (" a,  b,   c\n", [" a", "  b", "   c"]),
        ('""""""""', ['"""']),
        ('"\n\n\n\n"', ["\n\n\n\n"]),
        ("\n\na", ["a"]),
        ("field1,field2\r", ["field1", "field2"]),
    ],
)
def test_csv_records_as_go_reads_them(text, record):
    assert pflag.read_csv_record(text) == record


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('a""b,c', 'parse error on line 1, column 2: bare " in non-quoted-field'),
        ('a "word","b"', 'parse error on line 1, column 3: bare " in non-quoted-field'),
        ('"a word",b"', 'parse error on line 1, column 11: bare " in non-quoted-field'),
        ('"a "word","b"', 'parse error on line 1, column 4: extraneous or missing " in quoted-field'),
        ('a,"b\nc"d,e', 'record on line 1; parse error on line 2, column 2: extraneous or missing " in quoted-field'),
        ('"foo"bar"\r\n', 'parse error on line 1, column 5: extraneous or missing " in quoted-field'),
        ('"""""""', 'parse error on line 1, column 8: extraneous or missing " in quoted-field'),
        ('"a', 'parse error on line 1, column 3: extraneous or missing " in quoted-field'),
        ('é"', 'parse error on line 1, column 3: bare " in non-quoted-field'),  # columns count bytes
        ("\n", "EOF"),
    ],
)
def test_csv_errors_in_go_s_words(text, error):
    # Go 1.25's encoding/csv (usacloud 1.22.8's build): 1-based byte columns, checked on the real binary
    with pytest.raises(pflag.CSVError) as raised:
        pflag.read_csv_record(text)
    assert str(raised.value) == error


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0x1f", 31),
        ("017", 15),
        ("0o17", 15),
        ("-0b11", -3),
        ("1_000", 1000),
        ("+5", 5),
        ("-9223372036854775808", -(2**63)),
    ],
)
def test_go_integers(text, value):
    assert pflag.parse_int(text) == (value, None)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("abc", "invalid syntax"),
        ("", "invalid syntax"),
        ("1__0", "invalid syntax"),
        ("08", "invalid syntax"),
        ("9223372036854775808", "value out of range"),
        ("1.5", "invalid syntax"),
    ],
)
def test_go_integer_errors(text, why):
    assert pflag.parse_int(text) == (None, f"strconv.ParseInt: parsing {pflag.go_quote(text)}: {why}")


def test_go_quote_and_ids():
    assert pflag.go_quote('a"b\\\n\u3000é\x7f') == '"a\\"b\\\\\\n\\u3000é\\x7f"'
    assert [pflag.string_id(t) for t in ("123", "abc", "0x10", "-5", "99999999999999999999")] == [
        123,
        0,
        0,
        -5,
        2**63 - 1,
    ]


def test_pflag_errors_as_usacloud_prints_them():
    (f,) = check_command(shlex.split("usacloud server create -y --name x --cpu abc"))
    assert f.message.startswith(
        'Error: invalid argument "abc" for "--cpu" flag: strconv.ParseInt: parsing "abc": invalid syntax'
    )
    (f,) = check_command(shlex.split("usacloud server create --assumeyes=yes --name x"))
    assert f.message.startswith('Error: invalid argument "yes" for "-y, --assumeyes" flag: strconv.ParseBool')


# -- the validator ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tag", "value", "failed"),
    [
        ("omitempty,min=1", Value("string", None, True), None),  # a nil pointer stops at omitempty
        ("omitempty,min=1", Value("string", "", True), "min"),  # a set pointer has a value, even ""
        ("omitempty,min=1", Value("string", "", False), None),
        ("omitempty,min=1,max=10", Value("int", 0, True), "min"),
        ("required", Value("list", [], False), None),  # pflag's "" is an empty, non-nil list
        ("required", Value("list", None, False), "required"),
        ("required", Value("string", None, True), "required"),
        ("max=3", Value("string", "ééé", False), None),  # runes, not bytes
        ("max=3", Value("string", "éééé", False), "max"),
        ("omitempty,tags", Value("list", ["a", "a"], False), "unique"),
        ("omitempty,tags", Value("list", [f"t{i}" for i in range(11)], False), "max"),
        ("omitempty,dive,cidrv4", Value("list", ["10.0.0.0/8", "10.0.0.1/8"], False), "cidrv4"),
        ("omitempty,file|json", Value("string", "{}", False), None),
        ("omitempty,file|json", Value("string", "nope", False), "file|json"),
        ("required,oneof=1 2", Value("int", 2, False), None),
        ("required,oneof=1 2", Value("int", 3, False), "oneof"),
    ],
)
def test_rules_as_the_validator_runs_them(tag, value, failed):
    errors = validate("Field", tag, value, NO_SIBLINGS)
    assert [e.rule.name for e in errors] == ([failed] if failed else [])


def test_an_element_fails_with_its_index_and_the_alias_s_inner_rule():
    (error,) = validate("Tags", "omitempty,tags", Value("list", ["ok", "t" * 33], False), NO_SIBLINGS)
    assert (error.field, error.index, error.detail(), error.rule.alias) == ("Tags[1]", 1, "max=32", "tags")


def test_required_with_runs_on_a_nil_pointer_and_reads_the_sibling():
    def sibling(value):
        return Context(lambda name: value)

    tag = "required_with=DNS2,omitempty,ipv4"
    assert validate("DNS1", tag, Value("string", None, True), sibling(None)) == []
    assert validate("DNS1", tag, Value("string", None, True), sibling(Value("string", "", True)))  # set: present
    assert validate("DNS1", tag, Value("string", None, True), sibling(Value("string", "", False))) == []


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (is_ipv4, ["192.168.0.1", "::ffff:10.0.0.1"], ["192.168.00.1", "1.2.3", "2001:db8::1", "fe80::1%eth0"]),
        (is_cidrv4, ["10.0.0.0/8", "0.0.0.0/0"], ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/+8", "2001:db8::/32"]),
        (is_fqdn, ["a.example.com", "example.com."], ["example", "1.2.3.4", "a_b.example.com", "x.com\n"]),
        (is_mac, ["00:11:22:33:44:55", "00-11-22-33-44-55", "0011.2233.4455"], ["00:11:22:33:44", "00:11-22:33:44:55"]),
    ],
)
def test_formats(check, good, bad):
    assert all(check(v) for v in good) and not any(check(v) for v in bad)


# -- the parameter struct ----------------------------------------------------------------------------------
def _fields(command: str, parameters: str | None = None) -> Fields:
    checker = Checker(shlex.split(command), None, None)
    assert checker.check_flags(known=True)
    return Fields(checker.inv.subcommand, checker.given, read_parameters(parameters, None) if parameters else None)


def test_defaults_flags_and_json_in_usacloud_s_order():
    fields = _fields("usacloud server create --name x")
    assert fields.get("CPU").value.value is DEFAULT and fields.get("Name").value.value == "x"
    fields = _fields("usacloud server create --commitment standard", '{"Commitment": "bogus", "CPU": 0}')
    assert fields.get("Commitment").value.value == "standard"  # a plain field's flag wins over the JSON
    assert fields.get("CPU").value.value == 0
    fields = _fields("usacloud server update --description flag", '{"Description": "json"}')
    assert fields.get("Description").value.value == "json"  # a pointer field's flag is lost
    fields = _fields("usacloud switch create --tags b", '{"Tags": ["a"]}')
    assert fields.get("Tags").value.value == ["a", "b"]  # pflag's list was changed already: it appends


def test_json_usacloud_cannot_decode():
    fields = _fields("usacloud server create", '{"CPU": "two", "Name": 5, "IconID": "12"}')
    assert fields.json_errors == [
        "json: cannot unmarshal string into Go struct field CPU of type int",
        "json: cannot unmarshal number 5 into Go struct field Name of type string",
    ]
    assert fields.get("IconID").value.value == 12  # types.ID takes a number in a string
    (f,) = check_command(["usacloud", "server", "create", "-y", "--zone", "tk1v", "--parameters", '{"CPU": 1.5}'])
    assert f.code == "bad-parameters" and "number 1.5" in f.message


# -- the subcommands' own Validate ------------------------------------------------------------------------
def test_authorized_keys_as_x_crypto_ssh_reads_them(gen_mutants):
    key = gen_mutants.PUBLIC_KEY
    assert authorized_key(key.encode())
    assert authorized_key(b'# comment\n\nno-pty,command="a b" ' + key.encode() + b" me@host\n")
    assert not authorized_key(b"ssh-ed25519 AAAA")
    assert not authorized_key(key.replace("AAAAC3", "AAAAC4").encode())  # the blob names another type
    assert not authorized_key(key.encode()[:-4])  # cut short


def test_custom_rules_run_only_when_the_tags_pass():
    words = shlex.split("usacloud disk create -y --name d --os-type bogus --source-disk-id 1")
    assert [f.message.split(" — ")[0] for f in check_command(words)] == [
        "validation error: --os-type: oneof="
        + " ".join(find_resource("disk").find_subcommand("create").find_flag("--os-type").options)
    ]
    words = shlex.split("usacloud disk create -y --name d --os-type ubuntu --source-disk-id 1")
    (f,) = check_command(words)
    assert f.message.startswith(
        "validation error: --os-type & --source-archive-id & --source-disk-id: only one of them can be specified"
    )


def test_a_bad_zone_keeps_the_custom_rules_from_running():
    words = shlex.split("usacloud disk create -y --name d --os-type ubuntu --source-disk-id 1 --zone is1z")
    assert [f.code for f in check_command(words)] == ["bad-zone"]


def test_every_subcommand_with_its_own_validate_is_accounted_for():
    """The 19 subcommands the command table marks custom_validate: each has its checks here, or is
    listed with the reason there is nothing to check offline."""
    marked = {(r.name, s.name) for r in all_resources() for s in r.subcommands if s.custom_validate}
    assert len(marked) == 19
    assert marked == set(CUSTOM) | NOTHING_OFFLINE
    assert not set(CUSTOM) & NOTHING_OFFLINE


# -- the service layer's own refusals (usacloud/servicevalidate.py) -----------------------------------
def errors_of(command: str, base_dir=None) -> list[tuple[str, str]]:
    findings = check_command(shlex.split(f"usacloud {command}"), base_dir)
    return [(f.code, f.message.split(" — ")[0]) for f in findings if f.severity == "error"]


@pytest.mark.parametrize(
    ("command", "line"),
    [
        ("archive create -y --name a", "SourceDiskID or SourceArchiveID is required"),
        ("archive create -y --name a --size 20 --no-wait", "SourceDiskID or SourceArchiveID is required"),
        ("archive create -y --name a --source-archive-id abc", "SourceDiskID or SourceArchiveID is required"),
        ("archive create -y --name a --source-file f --size 20 --no-wait", "NoWait=true is not supported when up"),
        ("internet create -y --name i --enable-ipv6 --no-wait", "NoWait=true is not supported when EnableIPv6=true"),
        ("mobile-gateway create -y --name m --private-interface-ip-address 192.168.0.1", "switch id is required"),
        (
            "mobile-gateway create -y --name m --private-interface-ip-address 192.168.0.1"
            " --private-interface-switch-id 1",
            "ip address is required when specified private interface",
        ),
        ("mobile-gateway create -y --name m --no-wait --dns1 192.0.2.1 --dns2 192.0.2.2", "NoWait=true is not"),
        ("mobile-gateway create -y --name m --no-wait --traffic-config-traffic-quota-in-mb 9", "NoWait=true is not"),
        (
            "server create -y --name s --network-interfaces"
            """ '[{"Upstream": "disconnected"}, {"upstream": "shared"}]'""",
            "upstream=shared is not supported for additional NICs",
        ),
        ("server create -y --name s --no-wait --disk-size 20", "NoWait=true is not supported if the disks contain"),
        ("""server create -y --name s --no-wait --disks '[{"SizeGB": 20}]'""", "NoWait=true is not supported if"),
        ("server create -y --name s --no-wait --boot-after-create", "NoWait=true is not supported with BootAfter"),
        ("vpc-router create -y --name v --public-network-interface-switch-id 1 --no-wait", "NoWait=true is not"),
        ("vpc-router create-standard -y --name v --no-wait", "NoWait=true is not supported with AdditionalNIC"),
    ],
)
def test_what_the_service_refuses_after_usacloud_s_own_checks_passed(tmp_path, command, line):
    (tmp_path / "f").write_bytes(b"\0")
    ((code, message),) = errors_of(command, tmp_path)
    assert message.startswith(line) and not message.startswith("validation error")
    assert code in ("service-refused", "missing-required")


@pytest.mark.parametrize(
    "command",
    [
        "archive create -y --name a --source-disk-id 1",
        "archive create -y --name a --source-file f --size 20",
        "internet create -y --name i --enable-ipv6",
        "internet create -y --name i --enable-ipv6=false --no-wait",
        "mobile-gateway create -y --name m --private-interface-ip-address 192.168.0.1 --private-interface-switch-id 1"
        " --private-interface-network-mask-len 24",
        "mobile-gateway create -y --name m --no-wait --internet-connection-enabled",
        """server create -y --name s --network-interfaces '[{"Upstream": "shared"}, {"Upstream": "disconnected"}]'""",
        "server create -y --name s --no-wait --disk-size 20 --disk-no-wait",
        """server create -y --name s --no-wait --disks '[{"SizeGB": 20, "NoWait": true}]'""",
        "server create -y --name s --no-wait",
        "vpc-router create-standard -y --name v",
    ],
)
def test_the_same_commands_made_whole_pass(tmp_path, command):
    (tmp_path / "f").write_bytes(b"\0")
    assert errors_of(command, tmp_path) == []


def test_a_command_that_only_prints_its_example_is_no_service_refusal(tmp_path):
    """usacloud prints the example and exits before its service runs: a no-op, not the source rule."""
    assert [
        f.code for f in check_command(["usacloud", "archive", "create", "-y", "--name", "a", "--example=true"])
    ] == ["no-op"]


def test_the_service_runs_only_once_usacloud_s_own_checks_passed():
    """usacloud stops at its own errors: the service's refusal is not reported beside them."""
    assert errors_of("archive create -y --name a --description " + "x" * 513) == [
        ("bad-value", "validation error: --description: max=512")
    ]
    conflict = "--source-file & --source-archive-id & --source-disk-id: only one of them can be specified"
    assert [m for _, m in errors_of("archive create -y --name a --source-archive-id 1 --source-disk-id 2")] == [
        f"validation error: {conflict}"
    ]


def test_the_database_quirk_is_told_in_one_line_with_what_to_add():
    command = "database create -y --name d --switch-id 1 --ip-address 192.168.0.10 --netmask 24 --plan 10g"
    command += " --database-type mariadb --username u --password p --enable-backup --backup-weekdays mon"
    (finding,) = [f for f in check_command(shlex.split(f"usacloud {command}")) if f.severity == "error"]
    assert finding.message.startswith("1 error occurred: * ReplicaUserPassword: required_with=EnableReplication — ")
    assert finding.fix == "--replica-user-password"
    assert errors_of(command + " --replica-user-password r") == []


def test_the_service_reads_parameters_and_json_list_files(tmp_path):
    (tmp_path / "nics.json").write_text('[{"Upstream": "disconnected"}, {"Upstream": "shared"}]')
    assert errors_of("server create -y --name s --network-interfaces nics.json", tmp_path) == [
        ("service-refused", "upstream=shared is not supported for additional NICs")
    ]
    params = '{"Name": "s", "Zone": "tk1v", "NoWait": true, "BootAfterCreate": true}'
    assert errors_of(f"server create -y --parameters '{params}'", tmp_path) == [
        ("service-refused", "NoWait=true is not supported with BootAfterCreate=true")
    ]
