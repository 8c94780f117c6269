"""One token bucket for every worker and every concurrent run with the same API key."""

from ratecheck import GRANT_JITTER, assert_rate_held, assert_run_held, attempt_times, run_held_to_rate
from standin_tools import RATE_429, framed

RATE = 10.0


def many_scripts(e2e, scripts=8, commands=8, prefix="s"):
    for n in range(scripts):
        e2e.script(f"{prefix}{n}.usacloud", "usacloud zone list\n" * commands)


def test_four_workers_hold_the_rate(e2e):
    many_scripts(e2e, scripts=8, commands=4)  # 32 commands: 3.1 s at the rate
    result, _ = run_held_to_rate(e2e, 32, RATE, workers=4)
    result.assert_outcomes(passed=8)
    # the summary shows what every worker counted (through workeroutput)
    result.stdout.fnmatch_lines(["*limiter: file:*tokens 32 | attempts 32 | 429 retries 0 | token wait *"])


def test_burst_admits_that_many_at_once(e2e):
    many_scripts(e2e, scripts=4, commands=3)
    report = e2e.tmp / "report.json"
    result = e2e.run(f"--usacloud-report={report}", "--usacloud-burst=4", workers=4, rate="2")
    result.assert_outcomes(passed=4)
    assert_run_held(report, [c["start"] for c in e2e.calls()], 2.0, 4)
    grants = sorted(attempt_times(report))
    # a full bucket lets the first four go together, where burst 1 would hold them 1.5 s apart at
    # least; the margin is for the four workers' first requests, which a loaded machine spreads
    assert grants[3] - grants[0] < 3 / 2.0


def test_two_runs_with_one_key_share_the_budget(e2e):
    e2e.env(SAKURACLOUD_ACCESS_TOKEN="shared-key-1234", SAKURACLOUD_ACCESS_TOKEN_SECRET="s3cr3t-value")
    _, reports = e2e.concurrent_runs("ab", 3, 5, f"--usacloud-rate={RATE}", "-n", "2")
    grants = attempt_times(reports[0]) + attempt_times(reports[1])
    assert len(grants) == 30
    assert_rate_held(grants, RATE, 1, GRANT_JITTER)  # one bucket: exact across both runs
    launches = attempt_times(reports[0], "start") + attempt_times(reports[1], "start")
    assert all(start >= grant for grant, start in zip(grants, launches, strict=True))
    # both used the default state file named after the key's hash, never the key itself
    state_files = list((e2e.tmp / "cache" / "pytest-usacloud-sandbox").glob("ratelimit-*.bucket"))
    assert len(state_files) == 1 and "shared-key-1234" not in state_files[0].name


def test_a_run_right_after_another_respects_the_budget(e2e):
    e2e.script("one.usacloud", "usacloud zone list\n" * 5)
    report1, report2 = e2e.tmp / "r1.json", e2e.tmp / "r2.json"
    e2e.run(f"--usacloud-report={report1}", rate="2").assert_outcomes(passed=1)
    e2e.run(f"--usacloud-report={report2}", rate="2").assert_outcomes(passed=1)
    assert_rate_held(attempt_times(report1) + attempt_times(report2), 2.0, 1)


def test_429_is_retried_with_backoff_and_a_new_token(e2e):
    e2e.rules([{"match": "server list", "exit": 1, "stderr": framed(RATE_429), "times": 2}])
    e2e.script("retry.usacloud", "usacloud server list\n")
    report = e2e.tmp / "report.json"
    result = e2e.run(f"--usacloud-report={report}", "--usacloud-retries=3", "--usacloud-retry-backoff=0.2", rate="50")
    result.assert_outcomes(passed=1)
    import json

    cmd = json.loads(report.read_text())["scripts"][0]["commands"][0]
    assert [a["cls"] for a in cmd["attempts"]] == ["rate-limited", "rate-limited", "ok"]
    gaps = [b["start"] - a["end"] for a, b in zip(cmd["attempts"], cmd["attempts"][1:], strict=False)]
    # backoff 0.2 s then 0.4 s, each with jitter in [0.5, 1.5)
    assert 0.1 <= gaps[0] < 0.3 + 0.1 and 0.2 <= gaps[1] < 0.6 + 0.1, gaps
    assert len(e2e.calls()) == 3
    result.stdout.fnmatch_lines(["*429 retries 2*"])


def test_429_gives_up_after_the_retries(e2e):
    e2e.rules([{"match": "server list", "exit": 1, "stderr": framed(RATE_429)}])
    e2e.script("retry.usacloud", "usacloud server list\nusacloud zone list\n")
    result = e2e.run(
        "--usacloud-retries=2",
        "--usacloud-retry-backoff=0.05",
        rate="50",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["rate-limited: still rate-limited (429) after 3 attempts*", "  at *retry.usacloud:1"])
    assert len(e2e.calls()) == 3


def test_corrupt_state_file_warns_and_is_recovered(e2e):
    path = e2e.tmp / "state.bucket"
    path.write_bytes(b"\x00garbage{")
    e2e.script("one.usacloud", "usacloud zone list\nusacloud zone list\n")
    result = e2e.run(f"--usacloud-rate-backend=file:{path}", "-W", "always", rate="20")
    result.assert_outcomes(passed=1)
    assert "UsacloudWarning" in result.stdout.str() and str(path) in result.stdout.str()


def test_auto_means_five_workers(e2e):
    many_scripts(e2e, scripts=2, commands=1)
    result = e2e.run("-n", "auto")
    result.stdout.fnmatch_lines(["*created: 5/5 workers*"])
    result.assert_outcomes(passed=2)
