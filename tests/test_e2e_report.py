"""Live progress, the run summary, the JSON report and JUnit properties, end to end."""

import json
import os
import pty
import re
import select
import signal
import subprocess
import time

import pytest
from standin_tools import AUTH_401, STANDIN_BIN, framed, read_log, wait_gone, wait_until

from pytest_usacloud_sandbox.items import RECORDS_KEY
from pytest_usacloud_sandbox.record.script import ScriptRecord
from pytest_usacloud_sandbox.report.schema import validate

TOKEN = "tok-report-7a1c0e99"
SECRET = "sec-report-4b2f1d77"


@pytest.mark.parametrize("xdist", [(), ("-d", "--tx", "2*popen")], ids=["one process", "workers"])
def test_no_report_or_item_pytest_keeps_holds_a_record(e2e, xdist):
    """pytest keeps every report and item for the whole session: a script's record reaches the
    report's file (across xdist too), and none of them holds it afterwards, nor is it in flight."""
    e2e.rules([{"match": "server read", "exit": 1, "stderr": framed('target resource not found: query=["x"]')}])
    for n in range(3):
        e2e.script(
            f"s{n}.usacloud", "usacloud zone list\nusacloud server read x\n" if n == 1 else "usacloud zone list\n"
        )
    report = e2e.tmp / "report.json"
    result = e2e.run(f"--usacloud-report={report}", *xdist)
    result.assert_outcomes(passed=2, failed=1)
    doc = json.loads(report.read_text())
    assert sorted(len(s["commands"]) for s in doc["scripts"]) == [1, 1, 2]
    assert {s["commands"][-1]["cls"] for s in doc["scripts"]} == {"ok", "not-found"}
    reports = result.reprec.getreports("pytest_runtest_logreport")
    assert len([r for r in reports if r.when == "call"]) == 3
    session = result.reprec.getcall("pytest_sessionfinish").session
    items = session.items  # the controller's are none: each worker's are its own
    held = [(o, name) for o in [*reports, *items] for name, v in vars(o).items() if isinstance(v, (ScriptRecord, dict))]
    assert [(o, name) for o, name in held if name not in ("keywords", "stash", "_store")] == []
    assert all("usacloud" not in vars(r) for r in reports)
    assert len(session.config.stash[RECORDS_KEY]) == 0


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
            "rate: */s of unlimited (5 starts in *s from the first to the last, burst 1) | * elapsed",
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
    assert doc["run"]["usacloud_version"] == "1.22.8 linux/amd64, build ec29721"
    assert doc["run"]["preflight"]["ok"] is True and doc["run"]["preflight"]["cause"] == "ok"
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
    assert result.parseoutcomes() == {"failed": 1, "cancelled": 1}
    doc = json.loads(report.read_text())
    assert validate(doc) is True
    assert doc["run"]["interrupted"] is True
    assert "a_auth" in doc["run"]["stop_reason"] and "(auth)" in doc["run"]["stop_reason"]
    outcomes = sorted(s["outcome"] for s in doc["scripts"])
    assert outcomes == ["cancelled", "failed"]
    result.stdout.fnmatch_lines(["scripts: 0 passed, 1 failed, 1 cancelled (of 2)", "stopped: run stopped by*"])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP])
def test_report_is_written_after_ctrl_c_or_a_closed_terminal(e2e, sig):
    e2e.rules([{"match": "region list", "sleep": 300}])
    e2e.script("a_quick.usacloud", "usacloud zone list\n")
    e2e.script("b_long.usacloud", "usacloud zone list\nusacloud region list\n")
    report = e2e.tmp / "report.json"
    proc = e2e.start(f"--usacloud-report={report}")
    wait_until(lambda: any(e.get("argv") == ["region", "list"] for e in e2e.events()), 60, "the long command")
    proc.send_signal(sig)
    out = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    doc = json.loads(report.read_text())
    assert validate(doc) is True
    assert doc["run"]["interrupted"] is True
    # what had finished is kept
    assert [s["nodeid"].split("::")[-1] for s in doc["scripts"] if s["outcome"] == "passed"] == ["a_quick"], out
    assert wait_gone(e2e.pids(), 5) == [], out  # the long command was terminated
    assert list((e2e.tmp / "tmp").glob("pytest-usacloud-*")) == []  # and the run directory removed


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


@pytest.mark.parametrize(("columns", "workers"), [(200, 0), (80, 2)])
def test_status_line_on_a_terminal_updates_before_the_end_and_fits(e2e, columns, workers):
    e2e.rules([{"match": "region list", "sleep": 1.5}])
    e2e.script("slow.usacloud", "usacloud zone list\nusacloud region list\n")
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS=str(columns), LINES="40", TERM="xterm")
    proc = subprocess.Popen(
        e2e.argv("--usacloud-progress-interval=0.2", workers=workers),
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
    # drawn while the script ran (it says 0 of 1 done): the 1.5 s command alone spans 3 redraws at
    # 0.5 s; two are asked for, however slowly the main thread comes round on a loaded machine
    assert text.count("usacloud: 0/1 scripts") >= 2, text
    bars = [chunk.split("\x1b8", 1)[0] for chunk in text.split("\x1b[40;1H\x1b[2K\x1b[0m")[1:]]
    assert bars and all(len(bar) < columns for bar in bars), bars  # it fits: fields dropped, not cut
    assert any("running 1: slow.usacloud 00:0" in bar for bar in bars), bars  # with its elapsed time
    restored = text.rindex("\x1b[r")  # the region is given back at the end ...
    assert "usacloud: 0/1 scripts" not in text[restored:]  # ... after the last draw
    assert "1 passed" in text[restored:]


def progress_lines(result) -> list[str]:
    return [line for line in result.stdout.lines if re.match(r"usacloud: (\d+/\d+ scripts|collecting)", line)]


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


@pytest.mark.parametrize("workers", [0, 2])
def test_plain_progress_lines_come_at_the_interval_whatever_pytests_row_of_dots_holds(e2e, workers):
    """A CI log: a line of its own at least every interval while scripts run, also in the middle of
    pytest's row of dots (which goes on, its column count right, on the next line)."""
    e2e.rules([{"match": "region list", "sleep": 1.5}])
    e2e.script("a_fast.usacloud", "usacloud zone list\n")
    for name in ("b_slow", "c_slow", "d_slow"):
        e2e.script(f"{name}.usacloud", "usacloud region list\n")
    e2e.env(COLUMNS=80)
    started = time.monotonic()
    result = e2e.run("--usacloud-progress-interval=0.5", "-q", "-p", "no:randomly", inprocess=False, workers=workers)
    elapsed = time.monotonic() - started
    result.assert_outcomes(passed=4)
    lines = result.stdout.lines
    first_dot = next(n for n, line in enumerate(lines) if line.startswith("."))
    hundred = next(n for n, line in enumerate(lines) if line.endswith("[100%]"))
    during = [line for line in lines[first_dot:hundred] if line.startswith("usacloud: ")]
    # the slow scripts run 1.5 s each after the first dot (4.5 s alone, 1.5-3 s on two workers):
    # a line every 0.5 s; two are asked for, however loaded the machine
    assert len(during) >= 2, "\n".join(lines)
    assert len(progress_lines(result)) <= elapsed / 0.5 + 1  # never more often than the interval
    for line in lines:
        assert "usacloud: " not in line or line.startswith("usacloud: "), line  # each on a line of its own
    rows = [line for line in lines[first_dot : hundred + 1] if not line.startswith("usacloud: ")]
    assert "".join(rows).replace(" ", "").replace("[100%]", "") == "...."  # every dot, once
    assert len(lines[hundred]) == 79, lines[hundred]  # pytest's column count is right: [100%] at the edge


def test_secrets_in_parameters_flags_urls_and_shell_output_never_leak(e2e):
    pw_json, pw_short, pw_shell, redis_pw = "Sup3rSecretPw", "abc", "hunter2222secret", "QueryPw123"
    pw_users = "Pa55word-reg"  # in another flag's JSON, in double quotes: the script's text shows it escaped
    e2e.script(
        "params.usacloud",
        f"""usacloud disk edit -y 123456789012 --parameters '{{"Password":"{pw_json}"}}'\n"""
        f"usacloud disk edit -y 123456789012 --password={pw_short}\n"
        'usacloud container-registry create -y --name reg --users "[{\\"UserName\\":\\"u\\",'
        f'\\"Password\\":\\"{pw_users}\\",\\"Permission\\":\\"all\\"}}]" --visibility private --bogus-flag\n',
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
    assert "--bogus-flag" in text  # the line is shown (it fails the check)
    for secret in (pw_json, f"--password={pw_short}", redis_pw, pw_users):
        assert secret not in text, secret
    # shell mode runs for real (dry-run checks commands only): run it to see bash's own output masked
    result = e2e.run(f"--junitxml={junit}", "-k", "shell")
    result.assert_outcomes(failed=1)
    text = result.stdout.str() + result.stderr.str() + junit.read_text()
    assert pw_shell not in text
    assert "PW=***" in text  # bash's xtrace line, masked with the value the call expanded


def test_the_header_line_names_usacloud_mode_zone_rate_and_modes_asking_the_version_once(e2e):
    e2e.script("a.usacloud", "usacloud zone list\n")
    report = e2e.tmp / "r.json"
    result = e2e.run(f"--usacloud-report={report}", "--usacloud-fake", rate="3")
    result.assert_outcomes(passed=1)
    versions = [c for c in read_log(e2e.log_path) if c["argv"] == ["version"]]
    assert len(versions) == 1  # for the header and the report alike
    version = json.loads(report.read_text())["run"]["usacloud_version"]
    assert version
    [line] = [line for line in result.stdout.lines if line.startswith("usacloud: ")]
    assert line == (
        f"usacloud: {STANDIN_BIN} {version} | commands mode | zone tk1v | rate 3/s, burst 1, "
        f"bucket file:{e2e.tmp / 'cache'}/pytest-usacloud-sandbox/ratelimit-profile-"
        + line.split("ratelimit-profile-")[1]
    )
    assert line.endswith(".bucket | fake mode on | dry-run off")
    result = e2e.run("--usacloud-dry-run", "--usacloud-mode=shell")
    assert (
        "usacloud: not run (dry-run) | shell mode | zone tk1v | rate not used (dry-run) | fake mode off | dry-run on"
        in (result.stdout.lines)
    )
    assert len([c for c in read_log(e2e.log_path) if c["argv"] == ["version"]]) == 1  # none in a dry-run


def test_a_redis_password_is_masked_in_the_reports_options_whatever_blanks_come_before_it(e2e):
    e2e.script("a.usacloud", "usacloud zone list\n")
    report = e2e.tmp / "r.json"
    result = e2e.run(f"--usacloud-report={report}", "--usacloud-rate-backend= redis://:Pw-Redis-D@127.0.0.1:1/0")
    result.assert_outcomes(passed=1)
    options = json.loads(report.read_text())["run"]["options"]
    assert options["usacloud_rate_backend"] == " redis://:***@127.0.0.1:1/0"
    assert "Pw-Redis-D" not in result.stdout.str() + result.stderr.str() + report.read_text()
