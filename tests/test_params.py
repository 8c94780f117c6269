"""``--parameters`` read as usacloud reads it, by one reader for the offline check and the policy:
a file in the directory usacloud runs in (the script's), ``~/`` expanded, keys matched as Go's
encoding/json matches them (case-insensitive, Unicode simple folding, the last key wins)."""

from __future__ import annotations

import json

import pytest
from standin_tools import shared_file

from pytest_usacloud_sandbox.usacloud.check import check_command
from pytest_usacloud_sandbox.usacloud.params import go_fold, read_parameters
from pytest_usacloud_sandbox.usacloud.policy import DANGEROUS_OPTION, Policy

SERVER_JSON = {"Zone": "tk1v", "Name": "p", "CPU": 1, "Memory": 1, "BootAfterCreate": True}


@pytest.mark.parametrize(
    ("key", "field", "same"),
    [
        ("bootaftercreate", "BootAfterCreate", True),
        ("Forceſhutdown", "ForceShutdown", True),  # U+017F LATIN SMALL LETTER LONG S folds to s
        ("\u212aMSKeyID", "KMSKeyID", True),  # KELVIN SIGN folds to k
        ("ıd", "ID", False),  # dotless i is its own fold set in Go
        ("İD", "ID", False),
        ("boot_after_create", "BootAfterCreate", False),  # Go does not drop underscores
    ],
)
def test_keys_fold_as_go_folds_them(key, field, same):
    # transcript params-unicode-fold: {"Deſcription": "folded"} set the server's Description
    assert (go_fold(key) == go_fold(field)) is same
    params = read_parameters(json.dumps({key: True}), None)
    assert params.has(field) is same


def test_the_last_matching_key_wins():
    params = read_parameters('{"BootAfterCreate": true, "bootaftercreate": false}', None)
    assert params.lookup("BootAfterCreate") == (True, False)
    assert read_parameters('{"HealthCheck": {"delayloop": 5}}', None).value("HealthCheck.DelayLoop") == 5


def test_a_relative_file_is_read_from_the_base_directory(tmp_path, monkeypatch):
    (tmp_path / "p.json").write_text(json.dumps(SERVER_JSON))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    params = read_parameters("p.json", tmp_path)
    assert (params.source, params.value("Name")) == ("file", "p")
    # without a base directory a relative name cannot be read here
    assert read_parameters("p.json", None).source == "unread"


def test_tilde_is_the_home_usacloud_gets(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps(SERVER_JSON))
    assert read_parameters("~/p.json", "/nonexistent", home=str(tmp_path)).source == "file"
    assert read_parameters("~other/p.json", "/", home=str(tmp_path)).source == "broken"


@pytest.mark.parametrize(
    ("value", "source"),
    [
        ("null", "inline"),
        ("[1]", "broken"),
        ('"x"', "broken"),
        ("{", "broken"),
        ('{"CPU": NaN}', "broken"),  # Go's decoder has no NaN
        ("nosuchfile.json", "broken"),  # not a file: the text itself is the JSON
    ],
)
def test_what_usacloud_cannot_use(tmp_path, value, source):
    assert read_parameters(value, tmp_path).source == source


def test_a_directory_is_taken_as_text_and_a_fifo_is_not_read(tmp_path):
    import os

    (tmp_path / "d").mkdir()
    assert read_parameters("d", tmp_path).source == "broken"
    os.mkfifo(tmp_path / "fifo")
    assert read_parameters("fifo", tmp_path).source == "unread"  # reading it would block


# -- the policy reads the same way ---------------------------------------------------------------
def test_the_policy_reads_the_file_beside_the_script_wherever_pytest_runs(tmp_path, monkeypatch):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "server.json").write_text(json.dumps(SERVER_JSON))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "server.json").write_text(json.dumps({**SERVER_JSON, "BootAfterCreate": False}))
    monkeypatch.chdir(elsewhere)  # a file of the same name in pytest's directory must not count
    words = ["usacloud", "server", "create", "-y", "--parameters", "server.json"]
    refusal = Policy(cwd=scripts).apply(words).refusal
    assert refusal is not None and refusal.options == (DANGEROUS_OPTION,)
    assert "BootAfterCreate" in refusal.message
    assert Policy(cwd=elsewhere).apply(words).refusal is None


@pytest.mark.parametrize(
    "command",
    [
        'server create -y --parameters {"bootaftercreate":true}',
        'server create -y --parameters {"BOOTAFTERCREATE":true}',
        'server update -y web --parameters {"Forceſhutdown":true}',
        'server update -y web --parameters {"Forceſhutdown":false,"forceshutdown":true}',
    ],
)
def test_the_policy_matches_keys_as_go_does(command):
    refusal = Policy().apply(["usacloud", *command.split()]).refusal
    assert refusal is not None and refusal.options == (DANGEROUS_OPTION,)


def test_keys_go_would_not_match_are_not_dangerous():
    words = [
        "usacloud",
        "server",
        "create",
        "-y",
        "--parameters",
        '{"Boot_After_Create":true,"Disks":[{"BootAfterCreate":true}]}',
    ]
    assert Policy().apply(words).refusal is None


def test_the_policy_follows_tilde_and_refuses_what_it_cannot_read(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps(SERVER_JSON))
    words = ["usacloud", "server", "create", "-y", "--parameters", "~/p.json"]
    refusal = Policy(cwd=tmp_path / "x", home=str(tmp_path), root=tmp_path).apply(words).refusal
    assert refusal is not None and refusal.rule == "dangerous"
    (tmp_path / "big.json").write_bytes(b" " * (2 * 1024 * 1024) + b"{}")
    words[-1] = "big.json"
    refusal = Policy(cwd=tmp_path).apply(words).refusal
    assert refusal is not None and "cannot be checked" in refusal.message
    # any subcommand: what it cannot read could name a file usacloud reads (`"Format": "/proc/..."`)
    refusal = Policy(cwd=tmp_path).apply(["usacloud", "switch", "create", "-y", "--parameters", "big.json"]).refusal
    assert refusal is not None and refusal.rule == "reads-file" and "cannot be checked" in refusal.message


# -- the real usacloud's --parameters transcripts --------------------------------------------------
def _transcripts(prefix: str) -> list[dict]:
    lines = shared_file("usacloud-transcripts.jsonl").read_text("utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["id"].startswith(prefix) and "skeleton" not in r["id"]]


def test_the_params_transcripts_read_the_same(tmp_path):
    cwd, home = tmp_path / "cwd", tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    records = _transcripts("params-")
    assert len(records) >= 4
    for record in records:
        for name, text in (record.get("files") or {}).items():
            target = name.replace("$CWD", str(cwd)).replace("$HOME", str(home))
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(text)
        words = ["usacloud", *record["argv"]]
        errors = [f for f in check_command(words, cwd, str(home)) if f.severity == "error"]
        assert (record["rc"] == 0) is (not errors), (record["id"], errors)
        boots = '"InstanceStatus": "up"' in record["stdout"]  # the output may be cut: no JSON parse
        refusal = Policy(cwd=cwd, home=str(home)).apply(words).refusal
        assert boots is (refusal is not None), (record["id"], refusal)
