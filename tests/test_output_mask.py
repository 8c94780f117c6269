"""Secrets in usacloud's output (JSON, YAML, tables) are masked by their key, with one rule for which
names carry a secret. The YAML and tables here are usacloud 1.22.8's own output (fake mode)."""

import textwrap
import time

import pytest
from standin_tools import REAL_DATABASE_YAML, REAL_FTP_TABLE, REAL_MONITOR_YAML

from pytest_usacloud_sandbox.usacloud.commands import all_resources
from pytest_usacloud_sandbox.usacloud.mask import Masker, flag_secrets, secret_flags
from pytest_usacloud_sandbox.usacloud.secretnames import is_secret_flag, is_secret_key

# `vpc-router create --parameters ... -o yaml`: plain, single-quoted (`''` inside), double-quoted,
# wrapped over a more-indented line, literal blocks `|`, `|-`, `|2-`, in lists and nested
VPC_ROUTER_YAML = """\
  Settings:
    L2TPIPsecServer:
      PreSharedSecret: |
        -----BEGIN PRIVATE KEY-----
        MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA
        -----END PRIVATE KEY-----
      RangeStart: 192.168.0.250
      RangeStop: 192.168.0.254
    L2TPIPsecServerEnabled: true
    RemoteAccessUsers:
    - Password: 'RaUserSECRET4 with: colon'
      UserName: u1
    - Password: '#hashSECRET5'
      UserName: u2
    - Password: long words long words long words long words long words long words
        long words long words long words long words long words long words WrapSECRET
      UserName: u3
    - Password: "123456"
      UserName: u4
    - Password: "tab\\there é \\x01 ctlSECRET"
      UserName: u5
    - Password: |-
        no trailing
        newlineSECRET
      UserName: u6
    - Password: |2-
         leading space
        indentSECRET
      UserName: u7
    ScheduledMaintenance: null
    SiteToSiteIPsecVPN:
      Config:
      - LocalPrefix:
        - 192.168.0.0/24
        Peer: 192.0.2.1
        PreSharedSecret: '''quoted''SECRET6'
        RemoteID: 192.0.2.1
"""
VPC_ROUTER_MASKED = """\
  Settings:
    L2TPIPsecServer:
      PreSharedSecret: ***
      RangeStart: 192.168.0.250
      RangeStop: 192.168.0.254
    L2TPIPsecServerEnabled: true
    RemoteAccessUsers:
    - Password: ***
      UserName: u1
    - Password: ***
      UserName: u2
    - Password: ***
      UserName: u3
    - Password: ***
      UserName: u4
    - Password: ***
      UserName: u5
    - Password: ***
      UserName: u6
    - Password: ***
      UserName: u7
    ScheduledMaintenance: null
    SiteToSiteIPsecVPN:
      Config:
      - LocalPrefix:
        - 192.168.0.0/24
        Peer: 192.0.2.1
        PreSharedSecret: ***
        RemoteID: 192.0.2.1
"""


def test_yaml_output_is_masked_under_secret_keys_in_every_form_usacloud_prints():
    assert Masker().text(VPC_ROUTER_YAML) == VPC_ROUTER_MASKED


def test_yaml_secrets_of_another_teams_database_are_masked():
    masked = Masker().text(REAL_DATABASE_YAML)
    assert "SECRET" not in masked
    assert "    ReplicaPassword: ***\n" in masked and "    UserPassword: ***\n    WebUI: false\n" in masked
    assert masked.count("\n") == REAL_DATABASE_YAML.count("\n")


def test_a_monitors_snmp_community_and_slack_webhook_are_masked():
    masked = Masker().text(REAL_MONITOR_YAML)
    assert "SECRET" not in masked and "WEBHOOK" not in masked and "  SlackWebhooksURL: ***\n" in masked
    assert '    Community: ***\n    ContainsString: ""\n' in masked and "  NotifySlackEnabled: true\n" in masked


def test_yaml_keeps_what_is_no_string_and_masks_string_items_of_a_secret_list():
    text = "Password: null\nToken: 12\nPassword:\n- ListSECRET1\n- 'ListSECRET2'\nName: x\n"
    assert Masker().text(text) == "Password: null\nToken: 12\nPassword:\n- ***\n- ***\nName: x\n"
    # the list ends at the next key as indented as its own: another key's items are kept
    nested = "  SecretKeys:\n  - KeySECRET1\n  Routes:\n  - 10.0.0.0/8\n"
    assert Masker().text(nested) == "  SecretKeys:\n  - ***\n  Routes:\n  - 10.0.0.0/8\n"
    # a secret's lines are dropped up to the next line as indented as its key, blank lines inside kept out
    assert Masker().text("  Secret: |\n    a\n\n    b\n\n  Next: 1\n") == "  Secret: ***\n\n  Next: 1\n"


def test_secret_table_columns_are_masked():
    masked, table = Masker().text(REAL_FTP_TABLE).splitlines(), REAL_FTP_TABLE.splitlines()
    assert masked[3] == table[3].replace("FtpPassword-SECRET-4242xyz", "***".ljust(26))
    assert masked[:3] + masked[4:] == table[:3] + table[4:]
    # a cell holding `|` cannot be told apart from the others: the row is masked whole
    table = "+---+----------+\n| A | Password |\n+---+----------+\n| x | p|SECRET |\n| y | ok       |\n+---+---+\n"
    assert Masker().text(table).splitlines()[3:5] == ["| *** |", "| y | ***      |"]


def test_json_output_and_parameters_use_the_same_keys():
    text = textwrap.dedent("""\
        {
            "SecretKeys": [
                "KeySECRET1",
                "KeySECRET2"
            ],
            "Community": "SnmpCommSECRET7",
            "SlackNotifyWebhooksURL": "https://hooks.slack.com/services/T0/B0/MgwSECRET9",
            "UserPassword": "DbPassSECRET1",
            "Tags": ["a"]
        }""")
    masked = Masker().text(text)
    assert "SECRET" not in masked and '"Tags": ["a"]' in masked and '"UserPassword": "***"' in masked
    webhook = "https://hooks.slack.com/services/T0/B0/MgwSECRET9"
    expected = ["DbPassSECRET1", "KeySECRET1", "KeySECRET2", "SnmpCommSECRET7", webhook]
    assert sorted(flag_secrets(["--parameters", text])) == sorted(expected)


@pytest.mark.parametrize(
    "name",
    ["UserPassword", "ReplicaPassword", "PreSharedSecret", "PrivateKey", "private_key", "access_token_secret",
     "OriginGuardToken", "Passphrase", "pass_phrase", "SlackWebhooksURL", "IncomingWebhooksURL", "Community"],
)  # fmt: skip
def test_secret_key_names(name):
    assert is_secret_key(name)


@pytest.mark.parametrize("name", ["Key", "PublicKey", "AccessKeyID", "UserName", "WebUI", "SNMPVersion"])
def test_names_that_are_no_secret(name):
    assert not is_secret_key(name)


def test_one_rule_for_flags_and_the_fields_they_set():
    """Every flag that takes a value is secret exactly when the field it sets is (``--key`` aside:
    a private key file, while a key named ``Key`` in usacloud's output is a parameter's name)."""
    differ = {
        (f.name, f.field)
        for r in all_resources()
        for s in r.subcommands
        for f in s.flags
        if f.takes_value and f.field and is_secret_flag(f.name) != is_secret_key(f.field.split(".")[-1])
    }
    assert differ == {("--key", "Key")}
    webhooks = {"--slack-webhooks-url", "--traffic-config-slack-notify-webhooks-url"}
    assert {"--health-check-community", *webhooks} <= secret_flags()


@pytest.mark.parametrize(
    "text",
    [" \n" * 30000 + "Password: x\n", "Password:\n" + "- x\n" * 30000, '"Password": [' * 20000],
    ids=["blank-lines", "a-long-secret-list", "unclosed-lists"],
)
def test_masking_a_long_output_takes_linear_time(text):
    """A command's output tail (64 KB and more) is masked in well under a second, whatever its shape
    (a pattern that rescans the rest of the text at every line needs 15 s for 30,000 blank lines)."""
    started = time.perf_counter()
    Masker(("abcdefgh",)).text(text)
    assert time.perf_counter() - started < 3
