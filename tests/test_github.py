"""GitHub Actions output: workflow-command escaping, masking, the Markdown summary."""

from pathlib import Path

from pytest_usacloud_sandbox.record.command import CommandRecord
from pytest_usacloud_sandbox.record.script import ScriptRecord
from pytest_usacloud_sandbox.report import github
from pytest_usacloud_sandbox.report.runlog import RunLog
from pytest_usacloud_sandbox.settings import Settings

T0 = 1_700_000_000.0
TOKEN = "tok-github-0c6a3f11"


def failed_log(tmp_path, message):
    log = RunLog(Settings(rate=2.0), tmp_path, T0, {}, "", workers=0)
    log.set_total(1)
    nodeid = "dir, x/a:b.usacloud::a:b"
    record = ScriptRecord("dir, x/a:b.usacloud", nodeid, status="failed", cls="not-found", line=3, message=message)
    log.script_finished(nodeid, "failed", record.freeze(), None)
    return log


def test_enabled():
    assert github.enabled("auto", {"GITHUB_ACTIONS": "true"}) and not github.enabled("auto", {})
    assert github.enabled("on", {}) and not github.enabled("off", {"GITHUB_ACTIONS": "true"})


def test_annotation_escapes_and_masks(tmp_path):
    log = failed_log(tmp_path, f"100% gone, token {TOKEN}")
    env = {"GITHUB_WORKSPACE": str(tmp_path), "SAKURACLOUD_ACCESS_TOKEN": TOKEN}
    [line] = github.annotations(log, tmp_path, env)
    assert line == (
        "::error file=dir%2C x/a%3Ab.usacloud,line=3,title=usacloud not-found%3A a%3Ab.usacloud::"
        "not-found: 100%25 gone, token ***"
    )


def test_step_summary_is_appended_and_masked(tmp_path):
    log = failed_log(tmp_path, f"a|b {TOKEN}")
    env = {"SAKURACLOUD_ACCESS_TOKEN": TOKEN, "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    text = github.step_summary(log, T0 + 5, "run stopped by x", "limiter: file:/x at 2/s", env)
    assert TOKEN not in text and "a\\|b ***" in text
    assert "| failed | 1 |" in text and "**Stopped:** run stopped by x" in text
    (tmp_path / "s.md").write_text("before\n")
    assert github.append_step_summary(text, env) is None
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == "before\n" + text
    assert "could not append" in github.append_step_summary(text, {"GITHUB_STEP_SUMMARY": str(tmp_path)})
    assert github.append_step_summary(text, {}) is None


def test_step_summary_names_each_partly_run_script(tmp_path):
    log = RunLog(Settings(rate=2.0), tmp_path, T0, {}, "", workers=0)
    log.set_total(2)
    commands = [CommandRecord(n, "usacloud x", status=status) for n, status in enumerate(("ok", "skipped", "ok"), 1)]
    for name in ("b", "a"):
        nodeid = f"s/{name}.usacloud::{name}"
        record = ScriptRecord(f"s/{name}.usacloud", nodeid, commands=list(commands))
        log.script_finished(nodeid, "passed", record.freeze(), None)
    text = github.step_summary(log, T0 + 5, None, "limiter: off", {})
    assert "### Partly run (2)" in text
    at = text.index("| `s/a.usacloud` | 2 of 3 | 1 |")
    assert at < text.index("| `s/b.usacloud` | 2 of 3 | 1 |")
