"""Live progress, the run summary, the JSON report and JUnit properties, end to end."""

import json
import os
import pty
import re
import select
import signal
import subprocess
import time

from standin_tools import AUTH_401, framed, wait_until

from pytest_usacloud_sandbox.report.schema import validate

TOKEN = "tok-report-7a1c0e99"
SECRET = "sec-report-4b2f1d77"


def test_summary_and_report_content(e2e):
    e2e.env(SAKURACLOUD_ACCESS_TOKEN=TOKEN, SAKURACLOUD_ACCESS_TOKEN_SECRET=SECRET, STANDIN_LATENCY=0.05)
    e2e.rules([{"match": "server read", "exit": 1, "stderr": framed('target resource not found: query=["x"]')}])
    e2e.script("ok.usacloud", "usacloud server list --zone is1a\nusacloud region list\n")
    e2e.script("fail.usacloud", f"usacloud zone list --token {TOKEN}\nusacloud server read x\nusacloud zone list\n")
    e2e.script("refused.usacloud", "usacloud server delete -y x\n")
    e2e.script("warn.usacloud", "usacloud iso-image list\n")
    report = e2e.tmp / "out" / "report.json"
    junit = e2e.tmp / "junit.xml"
    result = e2e.run(
        f"--usacloud-report={report}", f"--junitxml={junit}", "--usacloud-error-policy=continue", workers=2
    )
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*usacloud sandbox summary*",
            "scripts: 2 passed, 2 failed (of 4)",
            "commands: *",
            "retries: 0 | refused: 1 | attempts: 5",
            "rate: */s of unlimited | * elapsed",
            "slowest 5 commands:",
            "warnings from the offline check (2):",  # a refused command is still checked
            "*scripts/refused.usacloud:1 partial-name-match*",
            "*scripts/warn.usacloud:1 deprecated-alias*",
        ]
    )
    # pytest's short summary lists the failures, message first; the summary does not list them again
    result.stdout.fnmatch_lines_random(
        [
            "FAILED scripts/fail.usacloud::fail - not-found: target resource not found*",
            "FAILED scripts/refused.usacloud::refused - refused: refused by the sandbox po*",
        ]
    )
    assert "failed scripts (" not in result.stdout.str()
    assert "token wait" not in result.stdout.str()  # no limiter: no wait to show
    doc = json.loads(report.read_text())
    assert validate(doc) is True
    assert doc["schema_version"] == 3 and doc["run"]["workers"] == 2
    assert doc["run"]["usacloud_version"] == "1.22.8"
    scripts = {s["nodeid"].split("::")[-1]: s for s in doc["scripts"]}
    ok = scripts["ok"]["commands"][0]
    assert ok["words"] == ["usacloud", "server", "list", "--zone", "tk1v"] and ok["zone_rewritten"] is True
    assert ok["written"] == ["usacloud", "server", "list", "--zone", "is1a"]
    assert ok["line"] == 1 and ok["text"] == "usacloud server list --zone is1a" and ok["exit_code"] == 0
    assert ok["cls"] == "ok" and len(ok["attempts"]) == 1 and ok["duration"] > 0
    assert scripts["ok"]["worker"].startswith("gw")
    failed = scripts["fail"]
    assert [c["status"] for c in failed["commands"]] == ["ok", "failed", "not-run"]
    assert failed["commands"][1]["stderr_tail"].strip().startswith("target resource not found")
    text = report.read_text() + junit.read_text() + result.stdout.str() + result.stderr.str()
    assert TOKEN not in text and SECRET not in text
    assert failed["commands"][0]["words"][-1] == "***"
    xml = junit.read_text()
    assert 'name="usacloud_commands_failed" value="1"' in xml and 'name="usacloud_class" value="not-found"' in xml


def test_report_is_written_after_a_stop(e2e):
    e2e.rules(
        [
            {"match": "region list", "sleep": 300},
            {"match": "server read", "exit": 1, "stderr": framed(AUTH_401), "sleep": 0.5},
        ]
    )
    e2e.script("a_auth.usacloud", "usacloud server read x\n")
    e2e.script("b_long.usacloud", "usacloud zone list\nusacloud region list\n")
    report = e2e.tmp / "report.json"
    result = e2e.run(f"--usacloud-report={report}", workers=2)
    result.assert_outcomes(failed=1, skipped=1)
    doc = json.loads(report.read_text())
    assert validate(doc) is True
    assert doc["run"]["interrupted"] is True
    assert "a_auth" in doc["run"]["stop_reason"] and "(auth)" in doc["run"]["stop_reason"]
    outcomes = sorted(s["outcome"] for s in doc["scripts"])
    assert outcomes == ["cancelled", "failed"]
    result.stdout.fnmatch_lines(["scripts: 0 passed, 1 failed, 1 cancelled (of 2)", "stopped: run stopped by*"])


def test_report_is_written_after_ctrl_c(e2e):
    e2e.rules([{"match": "region list", "sleep": 300}])
    e2e.script("a_quick.usacloud", "usacloud zone list\n")
    e2e.script("b_long.usacloud", "usacloud zone list\nusacloud region list\n")
    report = e2e.tmp / "report.json"
    proc = e2e.start(f"--usacloud-report={report}")
    wait_until(lambda: any(e.get("argv") == ["region", "list"] for e in e2e.events()), 60, "the long command")
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=60)[0].decode()
    doc = json.loads(report.read_text())
    assert validate(doc) is True
    assert doc["run"]["interrupted"] is True
    # what had finished is kept
    assert [s["nodeid"].split("::")[-1] for s in doc["scripts"] if s["outcome"] == "passed"] == ["a_quick"], out


def read_pty(fd, seconds: float = 60) -> bytes:
    """Everything the terminal shows until the program closes it (or ``seconds`` pass)."""
    data, end = b"", time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            data += chunk
    return data


def test_status_line_on_a_terminal_updates_before_the_end(e2e):
    e2e.rules([{"match": "region list", "sleep": 1.5}])
    e2e.script("slow.usacloud", "usacloud zone list\nusacloud region list\n")
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS="200", LINES="40", TERM="xterm")
    proc = subprocess.Popen(
        e2e.argv("--usacloud-progress-interval=0.2"),
        cwd=e2e.pytester.path,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    try:
        text = read_pty(master).decode(errors="replace")
        proc.wait(30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, text
    assert "\x1b[1;39r" in text  # a scroll region keeps the status line off pytest's own lines
    # drawn while the script ran (it says 0 of 1 done): the 1.5 s command alone spans 7 redraws at
    # 0.2 s; two are asked for, however starved the drawing thread is on a loaded machine
    assert text.count("usacloud: 0/1 scripts") >= 2, text
    assert "running 1: slow.usacloud 00:0" in text  # the running script, with its elapsed time
    restored = text.rindex("\x1b[r")  # the region is given back at the end ...
    assert "usacloud: 0/1 scripts" not in text[restored:]  # ... after the last draw
    assert "1 passed" in text[restored:]


def progress_lines(result) -> list[str]:
    return [line for line in result.stdout.lines if line.startswith("usacloud: ")]


def test_plain_progress_lines_without_a_terminal_respect_the_interval(e2e):
    e2e.rules([{"match": "region list", "sleep": 2.0}])
    e2e.script("slow.usacloud", "usacloud region list\n")
    started = time.monotonic()
    result = e2e.run("--usacloud-progress-interval=0.5", "-q", inprocess=False)  # lines on its own fd 1
    elapsed = time.monotonic() - started
    result.assert_outcomes(passed=1)
    lines = progress_lines(result)
    # four due while the command alone sleeps; never more often than the interval over the whole run
    assert 2 <= len(lines) <= elapsed / 0.5, (elapsed, result.stdout.str())
    assert "running 1: slow.usacloud" in lines[0]
    e2e.rules([{"match": "region list", "sleep": 1.0}])
    # --usacloud-progress=off: none, though five would be due
    result = e2e.run("--usacloud-progress-interval=0.2", "--usacloud-progress=off", inprocess=False)
    result.assert_outcomes(passed=1)
    assert not progress_lines(result), result.stdout.str()
    # the default interval (10 s): a run of a few seconds prints no progress line
    result = e2e.run("-q", inprocess=False)
    result.assert_outcomes(passed=1)
    assert not progress_lines(result), result.stdout.str()


def test_plain_progress_lines_never_split_pytests_row_of_dots(e2e):
    e2e.rules([{"match": "region list", "sleep": 1.5}])
    e2e.script("a_fast.usacloud", "usacloud zone list\n")
    e2e.script("b_slow.usacloud", "usacloud region list\n")
    result = e2e.run("--usacloud-progress-interval=0.5", "-q", "-p", "no:randomly", inprocess=False)
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert re.search(r"^\.\. +\[100%\]$", out, re.M), out  # the row is whole
    for line in result.stdout.lines:
        assert "usacloud: " not in line or line.startswith("usacloud: "), line  # each on a line of its own


def test_secrets_in_parameters_flags_urls_and_shell_output_never_leak(e2e):
    pw_json, pw_short, pw_shell, redis_pw = "Sup3rSecretPw", "abc", "hunter2222secret", "QueryPw123"
    e2e.script(
        "params.usacloud",
        f"""usacloud disk edit -y 123456789012 --parameters '{{"Password":"{pw_json}"}}'\n"""
        f"usacloud disk edit -y 123456789012 --password={pw_short}\n",
    )
    e2e.script(
        "shell.usacloud",
        f"# pytest.mark.usacloud_shell\nset -x\nPW={pw_shell}\n"
        'usacloud disk edit -y 123456789012 --password "$PW"\nfalse\n',
    )
    report, junit = e2e.tmp / "r.json", e2e.tmp / "j.xml"
    result = e2e.run(
        "-v",
        f"--usacloud-report={report}",
        f"--junitxml={junit}",
        "--usacloud-error-policy=continue",
        f"--usacloud-rate-backend=redis://127.0.0.1:1/0?password={redis_pw}",
        "--usacloud-dry-run",
    )
    text = result.stdout.str() + result.stderr.str() + report.read_text() + junit.read_text()
    for secret in (pw_json, f"--password={pw_short}", redis_pw):
        assert secret not in text, secret
    # shell mode runs for real (dry-run checks commands only): run it to see bash's own output masked
    result = e2e.run(f"--junitxml={junit}", "-k", "shell")
    result.assert_outcomes(failed=1)
    text = result.stdout.str() + result.stderr.str() + junit.read_text()
    assert pw_shell not in text
    assert "PW=***" in text  # bash's xtrace line, masked with the value the call expanded
