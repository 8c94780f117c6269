"""The README's first command: the shipped examples in dry-run, on a machine without usacloud."""

import json
import shutil
from pathlib import Path

from conftest import INNER_PLUGINS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_examples_dry_run(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no usacloud anywhere
    pytester.makeini("[pytest]\nmarkers =\n    network: example scripts that build networks\n")
    examples = shutil.copytree(EXAMPLES, pytester.path / "examples")  # outside this repo's own conftest
    result = pytester.runpytest_subprocess(
        *INNER_PLUGINS, f"--usacloud-scripts={examples}", "--usacloud-dry-run", "-v", "--strict-markers", "-rxs"
    )
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=7, skipped=1, xfailed=3)
    assert "2 partly run" in result.stdout.lines[-1]
    out = result.stdout.str()
    # zones checked as written, then rewritten: shown after the policy, with what the script wrote
    result.stdout.fnmatch_lines(
        ["*dry-run * line 6 * usacloud iaas server-plan list --zone tk1v --max 5 -o table  ?as written: is1a?"]
    )
    result.stdout.fnmatch_lines(
        ["*dry-run * line 6 * usacloud server list --zone=tk1v -o json  ?as written: --zone=all?"]
    )
    # commands that need the shell are skipped with the reason
    result.stdout.fnmatch_lines(["*skipped * line 12 *needs shell expansion: $NAME*"])
    # the refusals and the typo are the expected failures
    result.stdout.fnmatch_lines_random(
        [
            "*08-refused-delete*the sandbox policy refuses delete*",
            "*09-typo-fails*offline check*",
            "*11-note-global-write*--usacloud-allow-global-writes*",
            "*13-skipped-private-host*dedicated hosts are not offered*",
        ]
    )
    # the deprecated v0 alias is a warning in the summary, not a failure
    result.stdout.fnmatch_lines(
        ["warnings from the offline check (*", "*06-converted-from-v0.usacloud:8 deprecated-alias*"]
    )
    assert "rate: dry-run" in out
    assert "limiter: not used (dry-run)" in out


def test_examples_run_against_the_stand_in_twice_in_a_row(e2e):
    """The same examples run for real (against the stand-in, whose store persists between runs) pass,
    with jq lines never executed; what each run created is gone after it, so the second run passes too
    (without the cleanup, 02's read of its switch finds two and fails)."""
    e2e.pytester.makeini("[pytest]\nmarkers =\n    network: example scripts that build networks\n")
    examples = shutil.copytree(EXAMPLES, e2e.pytester.path / "examples")
    store = e2e.tmp / "usacloud-state.json"
    for run in (1, 2):
        result = e2e.run(f"--usacloud-scripts={examples}", "--usacloud-error-policy=continue", workers=2, scripts=False)
        result.assert_outcomes(passed=9, skipped=1, xfailed=3)
        left = {kind: items for kind, items in json.loads(store.read_text())["resources"].items() if items}
        assert left == {}, (run, left)
        result.stdout.fnmatch_lines(["cleanup: * deleted, 0 left*"])
    argvs = e2e.argvs()
    # 03 runs in shell mode: its captured archive ID reached the create command
    creates = [a for a in argvs if a[:2] == ["server", "create"]]
    assert len(creates) == 2 and creates[0][creates[0].index("--disk-source-archive-id") + 1].isdigit()
    argvs = e2e.argvs()
    assert ["zone", "list", "-o", "json"] in argvs
    assert all("--zone" not in a or a[a.index("--zone") + 1] == "tk1v" for a in argvs)
    assert not any(a[:2] == ["server", "delete"] for a in argvs)


def test_a_run_started_elsewhere_may_point_into_this_checkout(pytester, monkeypatch):
    """The checkout's root conftest is loaded by any run that collects under it: it must not break one."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert not (pytester.path / "conftest.py").exists() and not str(pytester.path).startswith(str(EXAMPLES.parent))
    result = pytester.runpytest_subprocess(*INNER_PLUGINS, f"--usacloud-scripts={EXAMPLES}", "--usacloud-dry-run")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=7, skipped=1, xfailed=3)
