"""The README stays true: its quick start, its options table against `pytest --help`, and each
example's documented outcome against what the dry-run gives."""

import json
import re
import shutil
import sys
import typing
from pathlib import Path

import pytest

from conftest import INNER_PLUGINS
from pytest_usacloud_sandbox.options import OPTIONS
from pytest_usacloud_sandbox.record.vocabulary import CommandStatus, ResultClass, ScriptOutcome, Verdict

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
TABLE = re.findall(r"^\| `(--usacloud-[a-z-]+)` \| `(usacloud_[a-z_]+)` \| `([^`]*)` \| (.*) \|$", README, re.M)


def _words_after(head: str, end: str = "\n\n") -> list[str]:
    text = README[README.index(head) + len(head) :]
    return re.findall(r"`([a-z][a-z -]*)`", text[: text.index(end)])  # words, not flags


def test_the_results_section_names_every_word_of_the_vocabulary():
    assert _words_after("Command statuses: ") == [str(s) for s in CommandStatus]
    assert _words_after("Result classes: ") == [str(c) for c in ResultClass]
    status_words = [*typing.get_args(Verdict), ScriptOutcome.PARTLY_RUN]  # what JUnit's usacloud_status can say
    assert _words_after("properties `usacloud_status` (", ")") == [str(w) for w in status_words]


def test_it_opens_with_a_five_line_quick_start_and_says_early_when_to_choose_shell_mode():
    head = README[: README.index("## What a script is")]
    block = re.search(r"## Quick start\n\n```console\n(.*?)```", head, re.S)
    assert block, "the README opens with a quick start"
    commands = [line for line in block.group(1).splitlines() if line.startswith("$ ")]
    assert len(commands) == 5
    assert "$ pytest --usacloud-scripts=examples --usacloud-dry-run" in block.group(1)
    assert "shell mode" in head.lower() and "--usacloud-mode=shell" in head


def test_the_first_screen_gives_the_two_set_up_commands_the_platform_and_the_suites_time():
    screen = README[: README.index("## Quick start")]
    assert len(screen.splitlines()) <= 30  # the first screen
    japanese = README[README.index("## 日本語クイックスタート") :]
    commands = [line.split("#")[0].strip() for line in screen.splitlines() if line.startswith("$ ")]
    assert commands == [
        "$ pip install -e '.[test]' && pytest --usacloud-scripts=examples --usacloud-dry-run",
        "$ pip install -e '.[test]' && pytest -n 4",
    ]
    assert commands == [line.split("#")[0].strip() for line in japanese.splitlines() if line.startswith("$ ")][:2]
    assert "Linux only" in screen
    for reason in ("pidfd_getfd", "/proc/", "setpriv", "unshare"):
        assert reason in screen, reason
    assert re.search(r"\d+(\.\d+)? minutes", screen) and "SUITE_TIME" not in README  # as measured


def test_the_ci_runs_the_documented_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pytest --usacloud-scripts=examples --usacloud-dry-run" in ci and "pytest -n 4" in ci
    assert "pytest -n 4" in README


@pytest.fixture(scope="module")
def help_text(tmp_path_factory):
    import subprocess

    cwd = tmp_path_factory.mktemp("help")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *INNER_PLUGINS, "--help"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "COLUMNS": "2000",
        },
        check=True,
    )
    return " ".join(done.stdout.split())  # help lines are wrapped: compare as one line of words


def test_every_option_in_the_table_is_in_pytest_help_with_that_default(help_text):
    assert sorted((flag, ini) for flag, ini, _, _ in TABLE) == sorted((o.flag, o.name) for o in OPTIONS)
    for flag, ini, default, meaning in TABLE:
        at = help_text.index(f" {flag}")  # as an option
        described = help_text[at : at + 600]
        assert f"(ini too; default: {default})" in described, (flag, described)
        assert " ".join(meaning.split()) in described, (flag, meaning)
        assert re.search(rf" {ini} \(\w+\): ", help_text), f"ini key {ini} is not in pytest --help"


def test_each_examples_documented_outcome_is_what_the_dry_run_gives(pytester, monkeypatch):
    rows = re.findall(r"^\| `(\d\d-[a-z0-9-]+\.usacloud)` \| ([a-z, ]+) \| .* \|$", README, re.M)
    examples = sorted(p.name for p in (ROOT / "examples").glob("*.usacloud"))
    assert sorted(name for name, _ in rows) == examples
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no usacloud anywhere
    pytester.makeini("[pytest]\nmarkers =\n    network: example scripts that build networks\n")
    shutil.copytree(ROOT / "examples", pytester.path / "examples")
    report = pytester.path / "report.json"
    result = pytester.runpytest_subprocess(
        *INNER_PLUGINS, "--usacloud-scripts=examples", "--usacloud-dry-run", f"--usacloud-report={report}"
    )
    assert result.ret == 0, result.stdout.str()
    got = {}
    for script in json.loads(report.read_text())["scripts"]:
        outcome = script["outcome"]
        if outcome == "passed" and any(c["status"] == "skipped" for c in script["commands"]):
            outcome += ", partly run"
        got[Path(script["path"]).name] = outcome
    assert got == dict(rows)


def test_dangerous_flags_are_listed_as_derived():
    from pytest_usacloud_sandbox.usacloud.policy import DANGEROUS_FLAGS

    block = README.split("<!-- dangerous-flags -->")[1].split("<!-- /dangerous-flags -->")[0]
    rows = set(re.findall(r"^\s*\| `([a-z-]+ [a-z-]+)` \| ([^|]+?) \|", block, re.M))
    expected = {
        (f"{res} {sub}", "/".join(f"`{n}`" for n in ([flag.short] if flag.short else []) + [flag.name]))
        for res, sub, flag, _why in DANGEROUS_FLAGS
    }
    assert rows == expected


@pytest.mark.parametrize(
    ("marker", "table"), [("power-cycle-settings", "POWER_CYCLES"), ("global-write-settings", "GLOBAL_WRITES")]
)
def test_side_effect_settings_are_listed_as_the_table_has_them(marker, table):
    from pytest_usacloud_sandbox.usacloud import sideeffects

    block = README.split(f"<!-- {marker} -->")[1].split(f"<!-- /{marker} -->")[0]
    rows = re.findall(r"^\s*\| `([a-z-]+ [a-z-]+)` \| ([^|]+?) \| ([^|]+?) \|", block, re.M)
    expected = [
        (f"{res} {sub}", ", ".join(f"`{f}`" for f in effect.flags), ", ".join(f"`{k}`" for k in effect.keys))
        for (res, sub), effects in getattr(sideeffects, table).items()
        for effect in effects
    ]
    assert rows == expected


def test_disruptive_subcommands_are_listed_as_the_table_labels_them():
    from pytest_usacloud_sandbox.usacloud.commands import all_resources

    block = README.split("<!-- disruptive-subcommands -->")[1].split("<!-- /disruptive-subcommands -->")[0]
    listed = set(re.findall(r"`([a-z0-9-]+ [a-z0-9-]+)`", block))
    labelled = {f"{r.name} {s.name}" for r in all_resources() for s in r.subcommands if s.kind == "disruptive"}
    assert listed == labelled


def test_the_lint_output_shown_is_what_the_lint_prints(tmp_path, capsys, monkeypatch):
    from pytest_usacloud_sandbox.lint.cli import main

    block = re.search(r"```console\n\$ usacloud-lint examples/\n(.*?)```", README, re.S).group(1)
    shown = [line for line in block.splitlines() if line != "..."]
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    assert main(["examples/"]) == 1
    out, err = capsys.readouterr()
    printed = out.splitlines() + err.splitlines()
    assert shown and all(line in printed for line in shown), (shown, printed)
