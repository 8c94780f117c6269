"""Commands mode skips a script's checks (`test`, `jq -e`... under `set -e`): such a script is partly
run, never a plain pass, and --usacloud-strict fails it; a script whose skipped lines only print passes."""

import json
import xml.etree.ElementTree as ET

from pytest_usacloud_sandbox.report.schema import validate

ASSERTING = """\
#!/bin/bash
set -euo pipefail
usacloud switch create -y --name web-sw -q
# the test: the switch must carry the description we set
usacloud switch read web-sw -o json | jq -e '.[0].Description == "frontend"'
test "$(usacloud switch list --names web-sw -q | wc -l)" -eq 2
"""
PRINTING = """\
#!/bin/bash
set -euo pipefail
echo "creating"
usacloud switch create -y --name log-sw -q
printf '%s\\n' done
"""


def test_a_script_whose_checks_were_skipped_is_partly_run_and_strict_fails_it(e2e):
    e2e.script("assert.usacloud", ASSERTING)
    e2e.script("printing.usacloud", PRINTING)
    junit, report = e2e.tmp / "junit.xml", e2e.tmp / "report.json"
    result = e2e.run("-v", f"--junitxml={junit}", "-o", "junit_logging=system-out", f"--usacloud-report={report}")
    assert result.ret == 0 and result.parseoutcomes() == {"passed": 1, "partly": 1}
    result.stdout.fnmatch_lines_random(
        ["scripts/assert.usacloud::assert PARTLY RUN *", "scripts/printing.usacloud::printing PASSED *"]
    )
    result.stdout.fnmatch_lines(
        [
            "partly run (1): passed, but skipped lines can decide the result",
            "  scripts/assert.usacloud: 3 of 3 commands ran, 0 skipped, 2 deciding lines skipped",
        ]
    )
    assert [a[:2] for a in e2e.argvs() if a[0] == "switch"].count(["switch", "create"]) == 2  # the usacloud parts ran
    cases = {c.get("name"): c for c in ET.parse(junit).iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["assert"].iter("property")}
    assert props["usacloud_status"] == "partly run"
    out = cases["assert"].find("system-out").text
    assert "line 5    usacloud switch read web-sw -o json | jq -e '.[0].Description == \"frontend\"'" in out
    assert "(`test` under `set -e`: bash stops the script if it fails)" in out
    assert {p.get("name"): p.get("value") for p in cases["printing"].iter("property")}["usacloud_status"] == "passed"
    doc = json.loads(report.read_text())
    validate(doc)
    scripts = {s["nodeid"].rsplit("::", 1)[1]: s for s in doc["scripts"]}
    assert [c["line"] for c in scripts["assert"]["skipped_checks"]] == [5, 6]
    assert scripts["printing"]["skipped_checks"] == [] and doc["run"]["partly_run"] == 1

    e2e.env(CI="true")  # pytest prints the whole message on CI
    result = e2e.run("--usacloud-strict")
    assert result.ret == 1
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "FAILED scripts/assert.usacloud::assert - partly-run: 3 of 3 usacloud commands ran, but 2 skipped lines "
            "can decide the script's result (line 5: `usacloud switch read web-sw -o json | jq -e "
            "'.[0].Description == \"frontend\"'`: `jq -e` under `set -e`: bash stops the script if it fails); "
            "shell mode runs them: mark it `usacloud_shell`",
        ]
    )


def test_shell_mode_runs_the_checks_that_commands_mode_skips(e2e):
    """The advice holds: under bash the same script's check fails (the stand-in's switch has no description)."""
    e2e.script("assert.usacloud", "# pytest.mark.usacloud_shell\n" + ASSERTING)
    result = e2e.run()
    result.assert_outcomes(failed=1)
    assert "partly" not in result.stdout.lines[-1]
