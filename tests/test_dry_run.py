"""The dry-run's order: the offline check reads the words as written, then the policy rewrites them."""

from __future__ import annotations

import json

import pytest

from pytest_usacloud_sandbox.record.vocabulary import CommandStatus, ResultClass
from pytest_usacloud_sandbox.report.reprs import command_line, failure_text


def test_a_bad_zone_fails_although_the_policy_would_pin_it(dry_engine):
    (cmd,) = dry_engine("usacloud server list --zone is1z\n").commands
    assert cmd.status == CommandStatus.INVALID and "unknown zone `is1z`" in cmd.message
    assert cmd.written == ["usacloud", "server", "list", "--zone", "is1z"]
    assert cmd.words == ["usacloud", "server", "list", "--zone", "tk1v"]


def test_the_v0_zone_spelling_fails_and_names_the_v1_one(dry_engine):
    (cmd,) = dry_engine("usacloud server list --zone = all\n").commands
    assert cmd.status == CommandStatus.INVALID and "write `--zone=all`" in cmd.message
    assert [f.fix for f in cmd.findings if f.code == "spaced-equals"] == ["--zone=all"]


def test_the_record_keeps_the_words_as_written_and_after_the_policy(dry_engine):
    (cmd,) = dry_engine("usacloud server list --zone is1a -o json\n").commands
    assert cmd.status == CommandStatus.DRY_RUN and cmd.zone_rewritten
    assert cmd.written[3:5] == ["--zone", "is1a"] and cmd.words[3:5] == ["--zone", "tk1v"]
    line = command_line(cmd)
    assert "usacloud server list --zone tk1v -o json" in line and "[as written: is1a]" in line
    (same,) = dry_engine("usacloud server list --zone tk1v\n").commands
    assert "as written" not in command_line(same)


def test_a_refused_command_is_still_checked_and_both_problems_are_reported(dry_engine):
    record = dry_engine("usacloud server delete --zone is1z web\n")
    (cmd,) = record.commands
    assert cmd.status == CommandStatus.REFUSED
    assert "refused by the sandbox policy (dangerous)" in cmd.message
    assert "the offline check also fails it" in cmd.message and "unknown zone `is1z`" in cmd.message
    assert {f.code for f in cmd.findings} >= {"bad-zone", "missing-assumeyes"}
    text = failure_text(record, "script.usacloud")
    assert "refused by the sandbox policy" in text and "check: `server delete` asks for confirmation" in text


def test_a_refused_command_that_passes_the_check_has_no_check_errors(dry_engine):
    (cmd,) = dry_engine("usacloud server delete -y --zone tk1v 123456789012\n").commands
    assert cmd.status == CommandStatus.REFUSED and "offline check" not in cmd.message
    assert [f for f in cmd.findings if f.severity == "error"] == []


def test_parameters_are_read_relative_to_the_script(dry_engine, tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "sw.json").write_text(json.dumps({"Name": "sw1", "Zone": "tk1v"}))
    (scripts / "noname.json").write_text(json.dumps({"Zone": "tk1v"}))
    text = (
        "usacloud switch create -y --parameters sw.json\n"
        "usacloud switch create -y --parameters noname.json\n"
        "usacloud switch create -y --parameters missing.json --name x\n"
    )
    ok, noname, missing = dry_engine(text, scripts / "p.usacloud").commands
    assert ok.status == CommandStatus.DRY_RUN, ok.message
    assert noname.status == CommandStatus.INVALID and "`switch create` needs `--name`" in noname.message
    # no such file: usacloud takes the text itself as JSON, prints the decoder's error and exits 0
    assert missing.status == CommandStatus.INVALID and "no file `missing.json`" in missing.message
    assert [f.code for f in missing.findings] == ["bad-parameters"]


@pytest.mark.parametrize(
    ("flag", "said"),
    [
        ("-h", "`-h` prints its help and runs nothing: remove -h"),
        ("--help", "`--help` prints its help and runs nothing: remove --help"),
        ("--generate-skeleton", "`--generate-skeleton` prints a parameters skeleton (JSON) and runs nothing"),
        ("--skeleton", "`--skeleton` prints a parameters skeleton (JSON) and runs nothing: remove --skeleton"),
        ("--example", "`--example` prints an example of its parameters (JSON) and runs nothing"),
    ],
)
def test_a_command_that_only_prints_fails(dry_engine, flag, said):
    (cmd,) = dry_engine(f"usacloud switch create -y --name sw {flag}\n").commands
    assert cmd.status == CommandStatus.INVALID and cmd.cls == ResultClass.USAGE
    assert [(f.severity, f.code) for f in cmd.findings] == [("error", "no-op")]
    assert said in cmd.message
