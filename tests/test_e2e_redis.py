"""The token bucket in Redis, shared across machines (here: across concurrent runs on loopback)."""

import json
import time

from ratecheck import assert_rate_held, attempt_times
from redis_tools import free_port, private_redis
from standin_tools import pids_alive, wait_until

PASSWORD = "redis-pw-5b3c9a"
RATE = 10.0


def test_two_runs_with_two_workers_share_one_redis_bucket(e2e):
    e2e.env(SAKURACLOUD_ACCESS_TOKEN="team-key-0001", SAKURACLOUD_ACCESS_TOKEN_SECRET="team-secret-0001")
    with private_redis(e2e.tmp, PASSWORD) as server:
        outputs, reports = e2e.concurrent_runs(
            "ab", 3, 5, f"--usacloud-rate={RATE}", "-n", "2", f"--usacloud-rate-backend={server.url}"
        )
    grants = attempt_times(reports[0]) + attempt_times(reports[1])  # the Redis server's clock
    assert len(grants) == 30
    assert_rate_held(grants, RATE, 1)
    for output, report in zip(outputs, reports, strict=False):
        assert PASSWORD not in output and PASSWORD not in report.read_text()
        assert f"limiter: redis://:***@127.0.0.1:{server.port}/0" in output
        assert json.loads(report.read_text())["run"]["backend"] == f"redis://:***@127.0.0.1:{server.port}/0"


def test_unreachable_redis_is_a_usage_error_with_the_url_masked(e2e):
    e2e.script("a.usacloud", "usacloud zone list\n")
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"
    result = e2e.usage_error(f"--usacloud-rate-backend={url}", "--usacloud-rate=5")  # a bucket: Redis is asked
    err = result.stderr.str()
    assert "--usacloud-rate-backend" in err and "redis://:***@127.0.0.1" in err
    assert PASSWORD not in err + result.stdout.str()
    assert e2e.calls() == []


def test_redis_lost_mid_run_fails_scripts_with_the_limiter_class(e2e):
    for n in range(2):
        e2e.script(f"s{n}.usacloud", "usacloud zone list\n" * 40)
    with private_redis(e2e.tmp) as server:
        proc = e2e.start(
            "--usacloud-error-policy=continue", f"--usacloud-rate-backend={server.url}", "-rA", workers=2, rate="4"
        )
        wait_until(lambda: len(e2e.calls()) >= 4, 60, "four commands through the Redis bucket")
    # the server is gone: waiting commands retry the connection for a bounded time, then fail
    started = time.monotonic()
    out = proc.communicate(timeout=120)[0].decode()
    assert time.monotonic() - started < 60, out
    assert proc.returncode == 1, out
    assert out.count("limiter-unavailable") >= 2, out
    assert "2 failed" in out
    assert len(e2e.calls()) < 80  # never ran unlimited
    assert pids_alive([e["pid"] for e in e2e.events() if e.get("event") == "start"]) == []
