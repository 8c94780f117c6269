"""Honest outcomes: nothing run is a skip, partly run and cancelled have their own words, the message
comes first, the dry-run shows what would run, GitHub Actions output, what the report and summary show."""

import json
import os
import re
import xml.etree.ElementTree as ET

from standin_tools import AUTH_401, framed

from pytest_usacloud_sandbox.report.schema import validate

TOKEN = "tok-outcomes-5e0c1d77"
NOT_FOUND = framed('target resource not found: query=["web"]')


def test_a_script_that_ran_nothing_is_skipped_and_a_partly_run_one_is_listed(e2e):
    e2e.script("needs.usacloud", "# header\nusacloud server read $SERVER_ID\nusacloud disk read $(cat id)\n")
    e2e.script("partly.usacloud", "usacloud zone list\nusacloud server read $ID\nusacloud region list\n")
    e2e.script("empty.usacloud", "# only a comment\necho hello\n")
    e2e.script("ok.usacloud", "usacloud zone list\n")
    report, junit = e2e.tmp / "r.json", e2e.tmp / "junit.xml"
    result = e2e.run("-rs", f"--usacloud-report={report}", f"--junitxml={junit}")
    result.assert_outcomes(passed=1, skipped=2)
    assert "1 partly run" in result.stdout.lines[-1]
    result.stdout.fnmatch_lines_random(
        [
            "SKIPPED [[]1[]] scripts/needs.usacloud:2: nothing ran: 2 usacloud commands need the shell "
            "(line 2: `$SERVER_ID`); mark it `usacloud_shell`",
            "SKIPPED [[]1[]] scripts/empty.usacloud:1: no usacloud command",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "scripts: 1 passed, 1 partly run, 0 failed, 2 skipped (of 4)",
            "partly run (1): passed, but some commands need the shell and were skipped",
            "  scripts/partly.usacloud: 2 of 3 commands ran, 1 skipped",
        ]
    )
    doc = json.loads(report.read_text())
    assert validate(doc) is True
    scripts = {s["nodeid"].split("::")[-1]: s for s in doc["scripts"]}
    assert scripts["needs"]["status"] == "skipped" and scripts["needs"]["outcome"] == "skipped"
    assert scripts["needs"]["message"].startswith("nothing ran: 2 usacloud commands")
    assert scripts["partly"]["outcome"] == "passed" and doc["run"]["partly_run"] == 1
    cases = {c.get("name"): c for c in ET.parse(junit).iter("testcase")}
    assert cases["needs"].find("skipped") is not None and cases["ok"].find("skipped") is None
    # the shell-mode marker's advice does not apply in a dry-run of a shell script
    e2e.script("needs.usacloud", "# pytest.mark.usacloud_shell\nusacloud server read $SERVER_ID\n")
    result = e2e.run("-rs", "--usacloud-dry-run", "-k", "needs")
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] *nothing would run: 1 usacloud command needs the shell*dry-run"])


def test_the_message_comes_first_in_pytests_short_summary(e2e):
    e2e.env(CI="true")  # pytest prints the whole message on CI: it is one line
    e2e.rules([{"match": "server read", "exit": 1, "stderr": NOT_FOUND}])
    e2e.script("a_fail.usacloud", "usacloud zone list\nusacloud server read web\n")
    e2e.script("b_ok.usacloud", "usacloud zone list\n")
    junit = e2e.tmp / "junit.xml"
    for workers in (0, 2):
        result = e2e.run(f"--junitxml={junit}", "--usacloud-error-policy=continue", workers=workers)
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(
            [
                'not-found: target resource not found: query=[[]"web"[]]',
                "  at scripts/a_fail.usacloud:2",
                "  line 2: usacloud server read web",
            ]
        )
        lines = [line for line in result.stdout.lines if line.startswith("FAILED ")]
        assert lines == ['FAILED scripts/a_fail.usacloud::a_fail - not-found: target resource not found: query=["web"]']
        assert "failed scripts (" not in result.stdout.str()  # listed once, by pytest
        case = next(c for c in ET.parse(junit).iter("testcase") if c.get("name") == "a_fail")
        failure = case.find("failure")
        assert failure.get("message") == 'not-found: target resource not found: query=["web"]'
        assert "at scripts/a_fail.usacloud:2" in failure.text
    # without pytest's short summary, the run summary lists the failed script
    result = e2e.run("-rN", "--usacloud-error-policy=continue")
    result.stdout.fnmatch_lines(
        ["failed scripts (1):", '  scripts/a_fail.usacloud:2 not-found: target resource not found: query=["web"]']
    )


def test_control_sequences_never_reach_the_terminal_junit_or_report(e2e):
    coloured = "\x1b[31mError\x1b[0m: \x1b]0;pwned\x07target resource not found\x1b[2J\r\n\x07"
    e2e.rules([{"match": "server read", "exit": 1, "stderr": coloured, "stdout": "\x1b[1mbold\x1b[0m\n"}])
    e2e.script("colour.usacloud", "usacloud server read web\n")
    report, junit = e2e.tmp / "r.json", e2e.tmp / "junit.xml"
    result = e2e.run(f"--usacloud-report={report}", f"--junitxml={junit}", "-v")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "\x1b" not in out and "\x07" not in out
    assert "Error: target resource not found" in out and "\\x07" in out  # stripped, and escaped
    assert "\x1b" not in junit.read_text() and "\\u001b" not in report.read_text()
    command = json.loads(report.read_text())["scripts"][0]["commands"][0]
    assert command["stderr_tail"].strip().startswith("Error: target resource not found")
    assert command["stdout_tail"] == "bold\n"


def test_a_script_whose_path_holds_double_colons_shows_in_summary_and_report(e2e):
    e2e.rules([{"match": "server read", "exit": 1, "stderr": NOT_FOUND}])
    e2e.script("we::ird/fail.usacloud", "usacloud server read web\n")
    e2e.script("we::ird/ok.usacloud", "usacloud zone list\n")
    report = e2e.tmp / "r.json"
    result = e2e.run(f"--usacloud-report={report}", "-rs", "--usacloud-error-policy=continue")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "scripts: 1 passed, 1 failed (of 2)",
            "failed scripts (1):",
            "  scripts/we::ird/fail.usacloud:1 not-found: target resource not found*",
        ]
    )
    doc = json.loads(report.read_text())
    assert sorted(os.path.basename(s["path"]) for s in doc["scripts"]) == ["fail.usacloud", "ok.usacloud"]
    assert doc["run"]["outcomes"]["failed"] == 1 and doc["run"]["scripts_total"] == 2


def test_dry_run_shows_what_would_run_without_v(e2e):
    e2e.script("plan.usacloud", "usacloud server list --zone is1a\nusacloud server read $ID\n")
    e2e.script("bad.usacloud", "usacloud server delete -y web\nusacloud server lsit\n")
    result = e2e.run("--usacloud-dry-run", "--usacloud-error-policy=continue")
    result.stdout.fnmatch_lines(
        [
            "*usacloud dry-run: what would run*",
            "scripts/bad.usacloud: failed",
            "  line 1    refused: usacloud server delete -y web  (refused by the sandbox policy (dangerous)*",
            "  line 2    invalid: usacloud server lsit  (*lsit*list*",
            "scripts/plan.usacloud: passed",
            "  line 1    would run: usacloud server list --zone tk1v  [[]as written: is1a[]]",
            "  line 2    skipped: usacloud server read $ID  (needs shell expansion: $ID)",
            "*usacloud sandbox summary*",
        ]
    )
    assert e2e.calls() == []


def test_github_actions_annotations_and_step_summary(e2e):
    step = e2e.tmp / "step-summary.md"
    step.write_text("earlier step\n")
    e2e.env(
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(step),
        GITHUB_WORKSPACE=str(e2e.pytester.path),
        SAKURACLOUD_ACCESS_TOKEN=TOKEN,
    )
    leak = framed(f"Error in response: 401 Unauthorized token={TOKEN}, a|b")
    e2e.rules([{"match": "server read", "exit": 1, "stderr": NOT_FOUND}, {"match": "disk list", "stderr": leak}])
    e2e.script("fail.usacloud", "usacloud zone list\nusacloud server read web\n")
    e2e.script("leak.usacloud", "usacloud disk list\n")
    e2e.script("ok.usacloud", "usacloud zone list\n")
    result = e2e.run("--usacloud-error-policy=continue", rate="50")
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    assert TOKEN not in out
    result.stdout.fnmatch_lines_random(
        [
            "::error file=scripts/fail.usacloud,line=2,title=usacloud not-found%3A fail.usacloud::"
            'not-found: target resource not found: query=["web"]',
            "::error file=scripts/leak.usacloud,line=1,title=usacloud api-error%3A leak.usacloud::"
            "api-error: *token=[*][*][*]*",
        ]
    )
    text = step.read_text()
    assert text.startswith("earlier step\n## usacloud sandbox\n") and TOKEN not in text
    assert "| passed | 1 |" in text and "| failed | 2 |" in text and "| not-found | 1 |" in text
    assert '| `scripts/fail.usacloud` | 2 | not-found | target resource not found: query=["web"] |' in text
    assert "a\\|b" in text  # a pipe in a message does not break the table
    assert "### Limiter" in text and "at 50/s" in text and "attempts 4" in text
    # off: neither
    step.write_text("")
    result = e2e.run("--usacloud-error-policy=continue", "--usacloud-github=off")
    assert "::error" not in result.stdout.str() and step.read_text() == ""


def test_partly_run_and_cancelled_have_their_own_word_letter_and_junit_status(e2e):
    e2e.rules([{"match": "server list --names auth", "stderr": framed(AUTH_401)}])
    e2e.script("partly.usacloud", "usacloud zone list\nusacloud server read $ID\nusacloud region list\n")
    e2e.script("ok.usacloud", "usacloud zone list\n")
    junit = e2e.tmp / "junit.xml"
    result = e2e.run("-q", "-p", "no:randomly")
    assert result.ret == 0
    assert re.search(r"^\.P +\[100%\]$", result.stdout.str(), re.M), result.stdout.str()
    assert result.stdout.lines[-1].startswith("1 passed, 1 partly run in ")
    result = e2e.run("-v", f"--junitxml={junit}", "-o", "junit_logging=system-out")
    result.stdout.fnmatch_lines(["scripts/partly.usacloud::partly PARTLY RUN *"])
    cases = {c.get("name"): c for c in ET.parse(junit).iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["partly"].iter("property")}
    assert props["usacloud_status"] == "partly run" and cases["partly"].find("failure") is None
    assert (
        "line 2    usacloud server read '$ID'  (needs shell expansion: $ID)" in cases["partly"].find("system-out").text
    )
    assert {p.get("name"): p.get("value") for p in cases["ok"].iter("property")}["usacloud_status"] == "passed"
    # a stop: the others are cancelled, in pytest's words too, and --lf runs them again
    e2e.script("a_auth.usacloud", "usacloud server list --names auth\n")
    result = e2e.run("-v", f"--junitxml={junit}", "-p", "no:randomly")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["scripts/ok.usacloud::ok CANCELLED (cancelled: run stopped by *"])
    assert re.match(r"=+ 1 failed, 2 cancelled in ", result.stdout.lines[-1]), result.stdout.lines[-1]
    cases = {c.get("name"): c for c in ET.parse(junit).iter("testcase")}
    assert cases["ok"].find("skipped") is not None
    assert {p.get("name"): p.get("value") for p in cases["ok"].iter("property")}["usacloud_status"] == "cancelled"
    e2e.rules([])
    result = e2e.run("--lf", "-v")
    assert "run-last-failure: rerun previous 3 failures" in result.stdout.str()
    assert result.parseoutcomes() == {"passed": 2, "partly": 1}  # ("1 partly run": pytester reads one word)


def test_strict_fails_a_partly_run_script(e2e):
    e2e.env(CI="true")  # pytest prints the whole message on CI
    e2e.script("partly.usacloud", "usacloud zone list\nusacloud server read $ID\nusacloud region list\n")
    for args, ini in ((("--usacloud-strict",), ""), ((), "usacloud_strict = true")):
        e2e.pytester.makeini(f"[pytest]\n{ini}\n")
        result = e2e.run(*args)
        assert result.ret == 1
        result.stdout.fnmatch_lines(
            [
                "FAILED scripts/partly.usacloud::partly - partly-run: 2 of 3 usacloud commands ran, "
                "1 needs the shell (line 2: `$ID`); mark it `usacloud_shell`",
            ]
        )
        assert ["zone", "list"] in e2e.argvs()
    result = e2e.run("--no-usacloud-strict")
    assert result.ret == 0 and result.parseoutcomes() == {"partly": 1}


def test_junit_names_a_script_by_its_path_not_a_dotted_package(e2e):
    """pytest turns a node id's path into a dotted classname (a package per directory): a script's
    test case keeps its path instead, with --junitprefix in front; a Python test beside it keeps pytest's."""
    e2e.script("mixed/c-refused.usacloud", "usacloud zone list\n")
    e2e.pytester.makepyfile(test_beside="def test_one():\n    pass\n")
    junit = e2e.tmp / "junit.xml"
    for workers in (0, 2):
        args = (f"--junitxml={junit}", "--junitprefix=ci", "test_beside.py")
        e2e.run(*args, workers=workers).assert_outcomes(passed=2)
        cases = {c.get("name"): c.get("classname") for c in ET.parse(junit).iter("testcase")}
        assert cases == {"c-refused": "ci.scripts/mixed/c-refused.usacloud", "test_one": "ci.test_beside"}


def test_a_command_that_only_prints_fails_in_the_run_the_dry_run_and_the_lint(e2e, capsys):
    from pytest_usacloud_sandbox.lint.cli import main

    e2e.script("skeleton.usacloud", "usacloud switch create -y --name ci-switch --generate-skeleton\n")
    e2e.script("example.usacloud", 'usacloud switch update -y ci-switch --description "rolled" --example\n')
    e2e.script("help.usacloud", "usacloud switch create -y --name ci-switch2 -h\n")
    for args in ((), ("--usacloud-dry-run",)):
        result = e2e.run(*args)
        result.assert_outcomes(failed=3)
        result.stdout.fnmatch_lines_random(
            [
                "*usage: `--generate-skeleton` prints a parameters skeleton (JSON) and runs nothing*",
                "*usage: `--example` prints an example of its parameters (JSON) and runs nothing*",
                "*usage: `-h` prints its help and runs nothing: remove -h*",
            ]
        )
    assert not any(a[:1] == ["switch"] for a in e2e.argvs())  # never run
    assert main([str(e2e.dir)]) == 1
    assert capsys.readouterr().out.count(": no-op: ") == 3


def test_a_command_that_only_prints_fails_in_shell_mode_too(e2e):
    e2e.script("skeleton.usacloud", "# pytest.mark.usacloud_shell\nusacloud switch create -y --name sw --skeleton\n")
    result = e2e.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*`--skeleton` prints a parameters skeleton (JSON) and runs nothing*"])
    assert not any(a[:1] == ["switch"] for a in e2e.argvs())


def test_usaclouds_settings_fail_the_dry_run_and_the_run_as_usacloud_fails_them(e2e):
    """usacloud accepts exactly "", partial or exact (case-sensitive) as the match mode, and likewise
    for the default output type and query driver, wherever they come from."""
    bad = {
        "flag-upper": "usacloud switch list --argument-match-mode EXACT\n",
        "env-match": "SAKURACLOUD_ARGUMENT_MATCH_MODE=Exact usacloud switch list\n",
        "env-output": "SAKURACLOUD_DEFAULT_OUTPUT_TYPE=JSON usacloud switch list\n",
        "env-driver": "SAKURACLOUD_DEFAULT_QUERY_DRIVER=gojq usacloud switch list\n",
    }
    good = {
        "flag-empty": "usacloud switch list --argument-match-mode ''\n",
        "env-lower": "SAKURACLOUD_DEFAULT_OUTPUT_TYPE=json SAKURACLOUD_ARGUMENT_MATCH_MODE=exact "
        "usacloud switch list\n",
    }
    for name, text in {**bad, **good}.items():
        e2e.script(f"{name}.usacloud", text)
    for args in (("--usacloud-dry-run",), ()):
        result = e2e.run(*args)
        result.assert_outcomes(failed=len(bad), passed=len(good))
        result.stdout.fnmatch_lines_random(
            [
                "*usage: `--argument-match-mode` does not take `EXACT`: usacloud accepts exactly partial or exact*",
                "*usage: SAKURACLOUD_DEFAULT_OUTPUT_TYPE does not take `JSON`*",
            ]
        )
    assert len([a for a in e2e.argvs() if a[:2] == ["switch", "list"]]) == len(good)  # the bad ones never ran


def test_usaclouds_settings_exported_in_shell_mode_are_checked(e2e):
    e2e.script(
        "driver.usacloud",
        "# pytest.mark.usacloud_shell\nexport SAKURACLOUD_DEFAULT_QUERY_DRIVER=gojq\nusacloud zone list\n",
    )
    result = e2e.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*SAKURACLOUD_DEFAULT_QUERY_DRIVER does not take `gojq`*"])
    assert not any(a[:2] == ["zone", "list"] for a in e2e.argvs())
