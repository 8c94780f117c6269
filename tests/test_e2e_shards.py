"""CI shards: separate runs on one Redis that name the same --usacloud-run-group share the stop."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from redis_tools import private_redis
from standin_tools import AUTH_401, framed, pids_alive


def auth_fails_once_a_long_command_runs(e2e, long_sleep: float) -> list[dict]:
    """Rules: the auth failure comes only once some region list has started (the stand-in's
    until/touch), so it always lands while another shard runs, however slowly the shards start."""
    started = str(e2e.tmp / "region-started")
    return [
        {"match": "server list --names auth", "stderr": framed(AUTH_401), "sleep": 60, "until": started},
        {"match": "region list", "sleep": long_sleep, "touch": started},
    ]


def start_shard(e2e, name: str, scripts: dict[str, str], *args: str) -> tuple[subprocess.Popen, object]:
    directory = e2e.pytester.path / f"shard-{name}"
    directory.mkdir()
    for script, text in scripts.items():
        (directory / script).write_text(text)
    report = e2e.tmp / f"report-{name}.json"
    proc = e2e.start(
        f"--usacloud-report={report}",
        f"--rootdir={directory}",
        "-rs",
        *args,
        rate="20",
        scripts=directory,
        cwd=directory,
    )
    return proc, report


def finish(proc: subprocess.Popen, timeout: float = 120) -> str:
    try:
        return proc.communicate(timeout=timeout)[0].decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_critical_failure_in_one_shard_cancels_the_others(e2e):
    e2e.rules(auth_fails_once_a_long_command_runs(e2e, 300))
    e2e.env(STANDIN_SPAWN_CHILD=1, STANDIN_CHILD_SLEEP=300)
    long = "usacloud zone list\nusacloud region list\n"
    with private_redis(e2e.tmp) as server:
        group = [f"--usacloud-rate-backend={server.url}", "--usacloud-run-group=pipeline-4711"]
        started = time.monotonic()
        b, b_report = start_shard(e2e, "b", {f"long{n}.usacloud": long for n in range(3)}, *group, "-n", "2")
        c, c_report = start_shard(e2e, "c", {"long.usacloud": long}, *group, "--usacloud-shard=linux-3")
        a, _ = start_shard(
            e2e, "a", {"a_auth.usacloud": "usacloud server list --names auth\n"}, *group, "--usacloud-shard=linux-1"
        )
        outputs = {name: finish(proc) for name, proc in (("a", a), ("b", b), ("c", c))}
    assert time.monotonic() - started < 100, "the other shards ran their 300 s commands"
    assert a.returncode == 1 and "1 failed" in outputs["a"], outputs["a"]
    reason = "run stopped by shard 'linux-1': a_auth.usacloud::a_auth (auth)"
    short = "cancelled: run stopped by shard 'linux-1': a_auth.usacloud (auth)"  # the skip reasons
    for name, proc, report, count in (("b", b, b_report, 3), ("c", c, c_report, 1)):
        out = outputs[name]
        assert f"{count} cancelled" in out.splitlines()[-1] and "passed" not in out.splitlines()[-1], out
        assert proc.returncode == 2, out  # nothing failed here, but the run did not finish: never a pass
        doc = json.loads(report.read_text())
        assert reason in doc["run"]["stop_reason"]
        assert [s["outcome"] for s in doc["scripts"]] == ["cancelled"] * count
        assert all(s["message"].startswith(short) for s in doc["scripts"]), doc["scripts"]
    pids = [e["pid"] for e in e2e.events() if e.get("event") == "start"]
    pids += [e["child_pid"] for e in e2e.events() if e.get("event") == "spawn"]
    assert pids_alive(pids) == []


def test_without_a_run_group_shards_share_only_the_rate_budget(e2e):
    e2e.rules(auth_fails_once_a_long_command_runs(e2e, 2.5))
    with private_redis(e2e.tmp) as server:
        backend = f"--usacloud-rate-backend={server.url}"
        b, _ = start_shard(e2e, "b", {"long.usacloud": "usacloud region list\n"}, backend)
        a, _ = start_shard(e2e, "a", {"a_auth.usacloud": "usacloud server list --names auth\n"}, backend)
        outputs = {name: finish(proc) for name, proc in (("a", a), ("b", b))}
    assert a.returncode == 1, outputs["a"]
    assert b.returncode == 0 and "1 passed" in outputs["b"], outputs["b"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--usacloud-run-group=g1"], "--usacloud-rate-backend=redis://"),
        (["--usacloud-run-group=g1", "--usacloud-rate-backend=file:/tmp/x.json"], "share their stop signal through"),
        (["--usacloud-run-group=bad\tname"], "printable"),
    ],
)
def test_a_run_group_needs_redis(e2e, args, message):
    e2e.script("a.usacloud", "usacloud zone list\n")
    result = e2e.usage_error(*args, "--usacloud-rate=5")
    assert message in " ".join(result.stderr.str().split())
    assert e2e.calls() == []
