"""bash's syntax: a script ``bash -n`` refuses fails on its item, at bash's line and in bash's words,
before anything runs: in commands mode, shell mode and the dry-run alike."""

from __future__ import annotations

import pytest

from pytest_usacloud_sandbox.script.syntax import (
    SyntaxCheckUnavailable,
    bash_syntax_problem,
    parse_bash_errors,
)

BAD = {
    "paren": ("usacloud zone list\nusacloud server list )\n", 2, "syntax error near unexpected token `)'"),
    "stray-fi": ("usacloud zone list\nfi\n", 2, "syntax error near unexpected token `fi'"),
    "stray-brace": ("usacloud zone list\n}\n", 2, "syntax error near unexpected token `}'"),
    "open-if": ("if true; then\n  usacloud zone list\n", 3, "syntax error: unexpected end of file"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bash_n_is_the_judge(tmp_path, name):
    text, line, message = BAD[name]
    path = tmp_path / "s.usacloud"
    path.write_text(text)
    problem = bash_syntax_problem(path)
    assert (problem.line, problem.message) == (line, message)
    assert problem.describe().startswith(f"bash cannot parse the script: {message}")


@pytest.mark.parametrize(
    "text",
    [
        "usacloud zone list\n",
        "cat <<EOF\nunterminated here-document: bash warns and goes on\n",
        "shopt -s extglob\nls !(x) >/dev/null\nusacloud zone list\n",  # bash parses line 2 after line 1 ran
        "",
    ],
)
def test_what_bash_parses_passes(tmp_path, text):
    path = tmp_path / "s.usacloud"
    path.write_text(text)
    assert bash_syntax_problem(path) is None


def test_bash_gets_nothing_of_the_callers_environment(tmp_path, monkeypatch):
    # BASH_ENV would make bash read (and run) a file first; the check gives bash an empty environment
    hook = tmp_path / "hook.sh"
    hook.write_text(f"touch {tmp_path}/ran\n")
    monkeypatch.setenv("BASH_ENV", str(hook))
    path = tmp_path / "s.usacloud"
    path.write_text("usacloud zone list\n")
    assert bash_syntax_problem(path) is None
    assert not (tmp_path / "ran").exists()


def test_no_bash_or_no_verdict_in_time_is_no_verdict(tmp_path):
    path = tmp_path / "s.usacloud"
    path.write_text("usacloud zone list\n")
    slow = tmp_path / "slowbash"
    slow.write_text("#!/bin/sh\nexec sleep 5\n")
    slow.chmod(0o755)
    with pytest.raises(SyntaxCheckUnavailable, match=r"longer than 0\.2 s"):
        bash_syntax_problem(path, bash=str(slow), timeout=0.2)
    with pytest.raises(SyntaxCheckUnavailable, match="could not be started"):
        bash_syntax_problem(path, bash=str(tmp_path / "nosuchbash"))


def test_bash_errors_parsed_by_the_file_name():
    stderr = "/x/a b: line 7: syntax error near unexpected token `done'\n/x/a b: line 7: `done'\n"
    problem = parse_bash_errors(stderr, "/x/a b")
    assert (problem.line, problem.message, problem.source) == (7, "syntax error near unexpected token `done'", "`done'")
    assert parse_bash_errors("bash: /x: Permission denied\n", "/x").line == 0


# -- end to end: every mode fails such a script before anything runs -------------------------------
@pytest.mark.parametrize(
    "args",
    [(), ("--usacloud-mode=shell",), ("--usacloud-dry-run",), ("--usacloud-mode=shell", "--usacloud-dry-run")],
    ids=["commands", "shell", "dry-run", "shell-dry-run"],
)
def test_every_mode_fails_what_bash_cannot_parse(e2e, args):
    e2e.script("good.usacloud", "usacloud zone list\n")
    for name, (text, _, _) in BAD.items():
        e2e.script(f"{name}.usacloud", text)
    result = e2e.run("--usacloud-fake", "--usacloud-error-policy=continue", *args)
    result.assert_outcomes(passed=1, failed=len(BAD))
    expected = []
    for name, (_, line, message) in sorted(BAD.items()):
        expected += [f"invalid-script: bash cannot parse the script: {message}*", f"  at *{name}.usacloud:{line}"]
    result.stdout.fnmatch_lines_random(expected)
    ran = [argv for argv in e2e.argvs() if argv != ["zone", "list"]]
    assert ran == [], "a command of a script bash refuses was run"


def test_bash_checks_the_file_bash_would_run(e2e):
    # CRLF line ends are bash's business: `then\r` is no keyword, so bash refuses the file as written
    (e2e.dir / "crlf.usacloud").write_bytes(b"if true; then\r\n  usacloud zone list\r\nfi\r\n")
    result = e2e.run("--usacloud-fake")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["invalid-script: bash cannot parse the script: *"])
    assert e2e.calls() == []
