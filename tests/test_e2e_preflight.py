"""The preflight end to end: one read-only call before any script; a bad set-up ends the session there."""

import json

import pytest
from standin_tools import AUTH_401, FORBIDDEN_403, read_events, read_log, unreachable

from pytest_usacloud_sandbox.fakemode.credentials import DUMMY_TOKEN
from pytest_usacloud_sandbox.record import preflight

KEY = {"SAKURACLOUD_ACCESS_TOKEN": "tok-5f1e2d3c4b", "SAKURACLOUD_ACCESS_TOKEN_SECRET": "sec-9a8b7c6d5e"}
AUTH = "auth-status -o json"
DEPRECATED = (
    "auth-status is deprecated. Please use 'usacloud rest https://secure.sakura.ad.jp/cloud/api/iam/1.0/auth/context' "
    "instead."
)


def stopped(e2e, *args, workers=0) -> pytest.RunResult:
    """A run the preflight ends: exit code 4 (a usage error), no script run, one message."""
    result = e2e.run(*args, workers=workers)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, (result.stdout.str(), result.stderr.str())
    assert e2e.calls() == [], "a script ran after a failed preflight"
    starts = [e for e in read_events(e2e.log_path) if e["event"] == "start" and e["argv"] == list(preflight.ARGV)]
    assert len(starts) == 1  # (a call that timed out logs no end)
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr.str()
    assert "passed" not in result.stdout.str()
    return result


def test_the_preflight_runs_once_before_any_script_and_shows_in_the_summary_and_report(e2e):
    e2e.env(STANDIN_REQUIRE_TOKEN=KEY["SAKURACLOUD_ACCESS_TOKEN"], **KEY)
    for n in range(3):
        e2e.script(f"s{n}.usacloud", "usacloud zone list -q\n")
    report = e2e.tmp / "report.json"
    result = e2e.run(f"--usacloud-report={report}", workers=2)
    result.assert_outcomes(passed=3)
    (call,) = e2e.preflight_calls()
    assert call["exit"] == 0 and call["zone_env"] == "tk1v" and call["auth"]["token"] == KEY["SAKURACLOUD_ACCESS_TOKEN"]
    assert call["cwd"] == str(e2e.pytester.path)  # where pytest was started
    assert all(call["end"] <= c["start"] for c in e2e.calls())  # before every script's first command
    result.stdout.fnmatch_lines(
        [
            "preflight: ok (usacloud auth-status -o json: the key reads its account (permission: create), *s) "
            "| usacloud 1.22.8*"
        ]
    )
    run = json.loads(report.read_text())["run"]
    assert run["preflight"]["ok"] is True and run["preflight"]["version"].split()[0] == "1.22.8"
    assert run["usacloud_version"] == run["preflight"]["version"]  # asked once
    assert KEY["SAKURACLOUD_ACCESS_TOKEN"] not in report.read_text()


@pytest.mark.parametrize("workers", [0, 2])
def test_no_credentials_end_the_session_before_any_script(e2e, workers):
    e2e.env(STANDIN_REQUIRE_TOKEN="the-right-token")
    e2e.script("a.usacloud", "usacloud zone list\n")
    report = e2e.tmp / "report.json"
    result = stopped(e2e, f"--usacloud-report={report}", workers=workers)
    result.stderr.fnmatch_lines(
        [
            "ERROR: usacloud preflight failed (no credentials): Error in response: *401 Unauthorized*",
            "  hint: set SAKURACLOUD_ACCESS_TOKEN and SAKURACLOUD_ACCESS_TOKEN_SECRET *",
            "  no script was run (usacloud auth-status -o json, 1.22.8*)",
        ]
    )
    assert "bringing up nodes" not in result.stdout.str() + result.stderr.str()  # xdist never started a worker
    doc = json.loads(report.read_text())
    assert doc["run"]["preflight"]["ok"] is False and doc["run"]["preflight"]["cause"] == "no credentials"
    assert doc["scripts"] == []


def test_with_profiles_allowed_a_401_is_a_bad_key(e2e):
    """The key may come from a profile then: the environment's lack of one does not mean there is none."""
    e2e.env(STANDIN_REQUIRE_TOKEN="the-right-token", HOME=e2e.tmp)
    e2e.script("a.usacloud", "usacloud zone list\n")
    result = stopped(e2e, "--usacloud-allow-profiles")
    result.stderr.fnmatch_lines(["ERROR: usacloud preflight failed (bad key (401)): *401 Unauthorized*"])


@pytest.mark.parametrize(
    ("rule", "cause", "message"),
    [
        ({"match": AUTH, "stderr": AUTH_401}, "bad key (401)", "Error in response: *401 Unauthorized*"),
        ({"match": AUTH, "stderr": FORBIDDEN_403}, "key not allowed (403)", "Error in response: *403 Forbidden*"),
        (
            {
                "match": AUTH,
                "stderr": 'Get "https://secure.sakura.ad.jp/x": dial tcp: lookup secure.sakura.ad.jp: no such host',
            },
            "API unreachable",
            "Get *no such host",
        ),
        (
            {
                "match": AUTH,
                "raw": True,
                "exit": 1,
                "stderr": f"[WARN] {DEPRECATED}\n\n{unreachable('http://127.0.0.1:9/cloud/zone/is1a/api/cloud/1.1/auth-status')}\n",
            },
            "API unreachable",
            'Get "http://127.0.0.1:9/*": dial tcp 127.0.0.1:9: connect: connection refused',
        ),
        ({"match": AUTH, "sleep": 60}, "API unreachable", "no answer within *s (timed out after *"),
        ({"match": AUTH, "exit": 0}, "no output", "usacloud exited 0 and printed nothing"),
        (
            {
                "match": AUTH,
                "raw": True,
                "exit": 0,
                "stderr": "API Error - failed to open default/config.json: "
                "openat default/config.json: no such file or directory\n",
            },
            "profile",
            "*API Error - failed to open default/config.json*",  # (failed by the classifier, or by its silence)
        ),
        ({"match": AUTH, "stdout": "hello\n", "exit": 0}, "error", "not the account as JSON: hello"),
        ({"match": "version", "stdout": "1.21.3\n", "exit": 0}, "usacloud version", "usacloud 1.21.3 is not 1.22.x"),
        ({"match": "version", "stderr": "boom"}, "usacloud missing", "*version` failed or printed no version*"),
    ],
)
def test_each_cause_is_named_in_one_message(e2e, rule, cause, message):
    e2e.env(**KEY)
    e2e.rules([rule])
    e2e.script("a.usacloud", "usacloud zone list\n")
    args = ["--usacloud-timeout=1"] if rule.get("sleep") else []
    if rule["match"] == "version":
        result = e2e.run(*args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR and e2e.calls() == [] and e2e.preflight_calls() == []
    else:
        result = stopped(e2e, *args)
    result.stderr.fnmatch_lines([f"ERROR: usacloud preflight failed ({cause}): {message}"])


def test_an_error_line_that_names_a_secret_is_masked(e2e):
    e2e.env(**KEY)
    e2e.rules([{"match": AUTH, "stderr": f"Error: key {KEY['SAKURACLOUD_ACCESS_TOKEN']} was refused"}])
    e2e.script("a.usacloud", "usacloud zone list\n")
    result = stopped(e2e)
    assert KEY["SAKURACLOUD_ACCESS_TOKEN"] not in result.stderr.str() + result.stdout.str()
    result.stderr.fnmatch_lines(["ERROR: usacloud preflight failed (error): Error: key *** was refused"])


def test_another_usacloud_version_is_a_warning(e2e):
    e2e.rules([{"match": "version", "stdout": "1.22.5 linux/amd64, build abc\n", "exit": 0}])
    e2e.script("a.usacloud", "usacloud zone list\n")
    result = e2e.run()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*UsacloudWarning: usacloud 1.22.5 is installed; the plugin's command table (offline check, policy) is "
            "usacloud 1.22.8's",
            "preflight: ok (*) | usacloud 1.22.5 linux/amd64, build abc | usacloud 1.22.5 is installed; *",
        ]
    )


def test_fake_mode_preflights_against_the_fake_driver_with_dummy_keys(e2e):
    e2e.env(**KEY)
    e2e.script("a.usacloud", "usacloud zone list\n")
    result = e2e.run("--usacloud-fake")
    result.assert_outcomes(passed=1)
    (call,) = e2e.preflight_calls()
    assert call["fake_mode"] == "1" and call["auth"]["token"] == DUMMY_TOKEN
    assert not call["fake_store"]  # no store: the fake driver's fresh data


def test_the_preflight_takes_a_token(e2e):
    """A new bucket of 1 at one command per 5 s: the script's first command waits for the token the
    preflight took (without it, the bucket would still be full)."""
    e2e.script("a.usacloud", "usacloud zone list\n")
    report = e2e.tmp / "report.json"
    result = e2e.run(f"--usacloud-rate-backend=file:{e2e.tmp / 'bucket'}", f"--usacloud-report={report}", rate="0.2")
    result.assert_outcomes(passed=1)
    (attempt,) = json.loads(report.read_text())["scripts"][0]["commands"][0]["attempts"]
    assert attempt["token_wait"] >= 1.0  # 5 s less the preflight's call and the collection


@pytest.mark.parametrize("how", ["--no-usacloud-preflight", "ini", "--usacloud-dry-run", "--collect-only"])
def test_no_preflight_when_off_in_a_dry_run_or_when_nothing_runs(e2e, how):
    e2e.env(STANDIN_REQUIRE_TOKEN="x")  # a preflight would fail
    e2e.script("a.usacloud", "usacloud zone list\n")
    if how == "ini":
        e2e.pytester.makeini("[pytest]\nusacloud_preflight = off\n")
    result = e2e.run(*([] if how == "ini" else [how]))
    assert e2e.preflight_calls() == []
    assert result.ret == (pytest.ExitCode.OK if how in ("--usacloud-dry-run", "--collect-only") else 1)
    if how in ("ini", "--no-usacloud-preflight"):
        result.stdout.fnmatch_lines(["preflight: off (--no-usacloud-preflight)"])


def test_a_bad_preflight_value_is_a_usage_error(e2e):
    e2e.script("a.usacloud", "usacloud zone list\n")
    e2e.pytester.makeini("[pytest]\nusacloud_preflight = maybe\n")
    result = e2e.usage_error()
    result.stderr.fnmatch_lines(["*usacloud_preflight*maybe*"])
    assert read_log(e2e.log_path) == []


def test_scripts_collected_anywhere_get_the_preflight_too(e2e):
    """usacloud_collect = anywhere in one process: the plugin wakes up at collection; still before the scripts."""
    e2e.env(STANDIN_REQUIRE_TOKEN="x")
    e2e.pytester.makeini("[pytest]\nusacloud_collect = anywhere\n")
    e2e.script("a.usacloud", "usacloud zone list\n")
    result = e2e.run(str(e2e.dir), scripts=False)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: usacloud preflight failed (no credentials): *"])
    assert e2e.calls() == [] and len(e2e.preflight_calls()) == 1


def test_the_schema_names_every_cause():
    from pytest_usacloud_sandbox.record.vocabulary import PreflightCause
    from pytest_usacloud_sandbox.report.schema import SCHEMA

    text = SCHEMA["$defs"]["preflight"]["properties"]["cause"]["description"]
    assert all(f"`{cause}`" in text for cause in PreflightCause)
