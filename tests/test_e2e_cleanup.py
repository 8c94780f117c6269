"""Cleanup end to end against the stand-in: what a run creates carries its tag and is removed at the
end (also after -x and SIGTERM), deletes touch only the run's own, `off` says how to remove what it
kept, the sweep removes what old runs left, and `script` cleans up after each script."""

import json
import signal
from datetime import UTC, datetime, timedelta

import pytest
from standin_tools import RATE_429, framed, make_outside, run_standin, standin_env, stored, wait_until

from pytest_usacloud_sandbox.cleanup.runid import RunId

TAG_LINE = "usacloud-run="


def state(e2e) -> dict[str, list[dict]]:
    return stored(e2e.tmp)


def names(e2e, resource: str) -> list[str]:
    return sorted(r["Name"] for r in state(e2e).get(resource, ()))


def make(e2e, text: str) -> None:
    make_outside(e2e.tmp, text.split())


def report(e2e, result=None) -> dict:
    return json.loads((e2e.tmp / "report.json").read_text())


@pytest.mark.parametrize("workers", [0, 2])
def test_what_a_run_creates_carries_its_tag_and_is_removed_after_the_last_script(e2e, workers):
    make(e2e, "switch create -y --name theirs")
    e2e.script("a.usacloud", "usacloud switch create -y --name sw-a -q\nusacloud disk create -y --name d --size 20\n")
    e2e.script(
        "b.usacloud",
        "usacloud server create -y --name web --disk-os-type ubuntu --disk-size 20 -q\n"
        "usacloud packet-filter create -y --name pf -o json\n",
    )
    result = e2e.run(f"--usacloud-report={e2e.tmp / 'report.json'}", workers=workers)
    result.assert_outcomes(passed=2)
    # every create that ran carried the run's tag (the packet filter takes none: recorded by its ID)
    doc = report(e2e)
    tag = doc["cleanup"]["tag"]
    creates = [c["argv"] for c in e2e.calls() if c["argv"][1] == "create"]
    assert sorted(a[0] for a in creates if a[2:4] == ["--tags", tag]) == ["disk", "server", "switch"]
    server = next(a for a in creates if a[0] == "server")
    assert server[4:6] == ["--disk-tags", tag]  # the server's new disk too: it does not inherit the server's
    # ... and is gone: what the run did not make is still there
    assert {k: len(v) for k, v in state(e2e).items()} == {"switch": 1, "server": 0, "disk": 0, "packet-filter": 0}
    assert names(e2e, "switch") == ["theirs"]
    own = [c["argv"] for c in e2e.own_calls()]
    lists = [a for a in own if a[1] == "list"]
    # one whole listing per kind made (what an ID would also match is seen there), deletes picked from it
    assert sorted(a[0] for a in lists) == ["disk", "packet-filter", "server", "switch"]
    assert all(a[2:] == ["--zone", "tk1v", "-o", "json"] for a in lists)
    deletes = [a for a in own if a[1] == "delete"]
    assert [a[0] for a in deletes] == ["server", "disk", "switch", "packet-filter"]  # dependency order
    assert all(a[2:5] == ["-y", "--argument-match-mode", "exact"] for a in deletes)  # an ID matches only itself
    assert deletes[0][5:7] == ["--force", "--with-disks"]  # its one disk is the run's: removed with it
    result.stdout.fnmatch_lines(["cleanup: 5 deleted, 0 left (* calls, *s)"])
    resources = {(r["type"], r["name"]): r["result"] for r in doc["cleanup"]["resources"]}
    assert resources == {
        ("server", "web"): "deleted",
        ("disk", ""): "deleted",  # the server's disk, with it
        ("disk", "d"): "deleted",
        ("switch", "sw-a"): "deleted",
        ("packet-filter", "pf"): "deleted",
    }
    assert len(doc["cleanup"]["commands"]) == len(own) and doc["cleanup"]["left"] == 0


def test_a_delete_by_name_touches_only_what_the_run_made(e2e):
    make(e2e, "switch create -y --name web-2")  # another run's
    e2e.script("del.usacloud", "usacloud switch create -y --name web -q\nusacloud switch delete -y web\n")
    result = e2e.run("--usacloud-allow-dangerous")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*refused by the sandbox policy (ownership): `switch` 'web' matches web-2 (ID *), not created by this run*"]
    )
    assert not any(a[:2] == ["switch", "delete"] for a in e2e.argvs())  # never run
    assert names(e2e, "switch") == ["web-2"]  # the run's own `web` went at the end, web-2 stayed
    e2e.script("del.usacloud", "usacloud switch create -y --name web -q\nusacloud switch delete -y web\n")
    e2e.run("--usacloud-allow-dangerous=any").assert_outcomes(passed=1)
    assert names(e2e, "switch") == []  # `any`: usacloud's substring match, as written


def test_a_delete_of_the_runs_own_resource_runs_on_its_id(e2e):
    make(e2e, "switch create -y --name web-2")
    e2e.script(
        "del.usacloud",
        "usacloud switch create -y --name web -q\nusacloud switch delete -y --argument-match-mode exact web\n",
    )
    e2e.run("--usacloud-allow-dangerous").assert_outcomes(passed=1)
    delete = next(a for a in e2e.argvs() if a[:2] == ["switch", "delete"])
    assert delete[:-1] == ["switch", "delete", "--argument-match-mode", "exact", "-y"] and delete[-1].isdigit()
    assert names(e2e, "switch") == ["web-2"]


def test_the_teardown_runs_after_a_stop_by_x(e2e):
    e2e.script("a.usacloud", "usacloud switch create -y --name sw -q\nusacloud switch read nosuch\n")
    e2e.script("b.usacloud", "usacloud zone list\n")
    result = e2e.run("-x", "-p", "no:randomly")
    assert result.ret == 1
    assert names(e2e, "switch") == []
    result.stdout.fnmatch_lines(["cleanup: 1 deleted, 0 left*"])


def test_the_teardown_runs_after_sigterm_and_a_second_one_ends_it(e2e):
    go = e2e.tmp / "created"
    e2e.rules(
        [
            {"match": "region list", "sleep": 300, "touch": str(go)},
            {
                "match": "switch delete -y --argument-match-mode exact --zone tk1v",
                "sleep": 300,
                "touch": str(e2e.tmp / "deleting"),
            },
        ]
    )
    e2e.script("a.usacloud", "usacloud switch create -y --name sw -q\nusacloud region list\n")
    proc = e2e.start()
    try:
        wait_until(go.exists, 60, "the create, then the long command")
        proc.send_signal(signal.SIGTERM)  # the first: the run stops and tears down
        wait_until((e2e.tmp / "deleting").exists, 60, "the teardown's delete")
        proc.send_signal(signal.SIGTERM)  # the second: the teardown ends and lists what remains
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.decode(errors="replace")
    assert proc.returncode != 0
    assert "cleanup: 0 deleted, 1 left" in text and "the teardown ended early: interrupted" in text, text
    assert "left: switch " in text and "'sw' (tk1v)" in text, text
    assert names(e2e, "switch") == ["sw"]


def test_the_teardown_removes_what_a_sigtermed_run_made(e2e):
    go = e2e.tmp / "created"
    e2e.rules([{"match": "region list", "sleep": 300, "touch": str(go)}])
    e2e.script("a.usacloud", "usacloud switch create -y --name sw -q\nusacloud region list\n")
    proc = e2e.start(workers=2)
    try:
        wait_until(go.exists, 60, "the create, then the long command")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.decode(errors="replace")
    assert "cleanup: 1 deleted, 0 left" in text, text
    assert names(e2e, "switch") == []


def test_off_keeps_them_and_says_how_to_remove_them(e2e):
    e2e.script("a.usacloud", "usacloud switch create -y --name sw -q\nusacloud packet-filter create -y --name pf -q\n")
    result = e2e.run("--usacloud-cleanup=off")
    result.assert_outcomes(passed=1)
    assert names(e2e, "switch") == ["sw"] and not e2e.own_calls()
    out = result.stdout.str()
    assert "cleanup: 0 deleted, 0 left, 2 kept (--usacloud-cleanup=off)" in out
    hint = next(line.strip() for line in result.stdout.lines if line.strip().startswith("usacloud switch delete"))
    assert hint.startswith("usacloud switch delete -y --argument-match-mode exact --zone tk1v usacloud-run=")
    assert "--usacloud-sweep=" in out
    by_id = next(line.strip() for line in result.stdout.lines if line.strip().startswith("usacloud packet-filter"))
    env = standin_env(e2e.tmp, SAKURACLOUD_ZONE="tk1v")
    for line in (hint, by_id):  # what it says works
        assert run_standin(line.split()[1:], env).returncode == 0
    assert names(e2e, "switch") == [] and names(e2e, "packet-filter") == []


def test_the_sweep_removes_only_run_tags_older_than_hours_and_runs_no_script(e2e):
    now = datetime.now(UTC)
    old, young = RunId.new(now - timedelta(hours=30)).tag, RunId.new(now - timedelta(hours=2)).tag
    make(e2e, f"switch create -y --name old --tags {old}")
    make(e2e, f"server create -y --name old-web --tags {old} --disk-size 20 --disk-tags {old}")
    make(e2e, f"switch create -y --name young --tags {young}")
    make(e2e, "switch create -y --name foreign --tags usacloud-run=someone-elses")
    make(e2e, "switch create -y --name untagged")
    e2e.script("a.usacloud", "usacloud switch create -y --name from-script\n")
    result = e2e.run("--usacloud-sweep")
    assert result.ret == 0, result.stdout.str()
    assert not any("from-script" in c["argv"] for c in e2e.calls())  # no script ran
    assert names(e2e, "switch") == ["foreign", "untagged", "young"]
    assert state(e2e)["server"] == [] and state(e2e)["disk"] == []
    result.stdout.fnmatch_lines(
        [
            "*usacloud sweep*",
            "sweep: run tags older than 24h: 3 deleted, 0 left*",
            f"  deleted: switch * 'old' tagged {old}",
        ]
    )
    assert all(
        a[1] == "delete" or a[2:] == ["--zone", "tk1v", "-o", "json"] for a in (c["argv"] for c in e2e.own_calls())
    )
    assert e2e.run("--usacloud-sweep=1").ret == 0
    assert names(e2e, "switch") == ["foreign", "untagged"]


def test_script_cleanup_removes_a_scripts_resources_right_after_it(e2e):
    e2e.script("a.usacloud", "usacloud switch create -y --name sw-a -q\n")
    e2e.script("b.usacloud", "usacloud switch list -q\nusacloud switch create -y --name sw-b -q\n")
    result = e2e.run("--usacloud-cleanup=script", f"--usacloud-report={e2e.tmp / 'report.json'}", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    assert names(e2e, "switch") == []
    listed_by_b = next(c for c in e2e.calls() if c["argv"][:2] == ["switch", "list"])
    assert listed_by_b["stdout_bytes"] == 0  # a's switch was gone before b started
    lists = [c["argv"] for c in e2e.own_calls() if c["argv"][1] == "list"]
    assert all(a[2:] == ["--zone", "tk1v", "-o", "json"] for a in lists)  # whole: the script's tags pick from it
    scripts = {s["nodeid"].split("::")[-1]: s for s in report(e2e)["scripts"]}
    assert scripts["a"]["cleanup"]["deleted"] == 1 and scripts["a"]["outcome"] == "passed"
    result.stdout.fnmatch_lines(["cleanup: 2 deleted, 0 left*"])


def test_script_cleanup_counts_what_it_deleted_by_id_once(e2e):
    """A packet filter takes no tags and is deleted by the ID its create printed: the script's own
    teardown deletes it, and the run's teardown does not count it again ("already gone")."""
    e2e.script("a.usacloud", "usacloud packet-filter create -y --name pf -q\n")
    result = e2e.run("--usacloud-cleanup=script", f"--usacloud-report={e2e.tmp / 'report.json'}")
    result.assert_outcomes(passed=1)
    resources = report(e2e)["cleanup"]["resources"]
    assert [(r["type"], r["zone"], r["result"], r["reason"]) for r in resources] == [
        ("packet-filter", "tk1v", "deleted", "")
    ]
    assert [c["argv"][:2] for c in e2e.own_calls()] == [["packet-filter", "list"], ["packet-filter", "delete"]]
    result.stdout.fnmatch_lines(["cleanup: 1 deleted, 0 left*"])


def test_a_failed_teardown_is_left_listed_and_annotated(e2e):
    e2e.rules(
        [
            {
                "match": "switch delete -y --argument-match-mode exact --zone tk1v",
                "stderr": framed("Error in response: 409 Conflict"),
            }
        ]
    )
    e2e.script("a.usacloud", "usacloud switch create -y --name sw -q\n")
    result = e2e.run("--usacloud-github=on")
    result.assert_outcomes(passed=1)  # the script passed; the session does not
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "cleanup: 0 deleted, 1 left*",
            "  left: switch * 'sw' (tk1v): *409 Conflict*",
            "  the run's tag: usacloud-run=*; to remove what carries it later:",
            "cleanup failed the session: 1 resource(s) the run created left behind "
            "(exit code 1; --usacloud-allow-leftovers lets it pass)",
            "::warning title=usacloud cleanup::1 resources left: switch *",
        ]
    )
    e2e.script("a.usacloud", "usacloud switch create -y --name sw2 -q\n")
    result = e2e.run("--usacloud-allow-leftovers")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["cleanup: 0 deleted, 1 left*"])
    result.stdout.no_fnmatch_line("cleanup failed the session*")


def test_shell_mode_scripts_get_the_run_id_for_unique_names(e2e):
    out = e2e.tmp / "ids"
    e2e.script(
        "a.usacloud",
        "# pytest.mark.usacloud_shell\n"
        f'echo "$USACLOUD_SANDBOX_RUN_ID $USACLOUD_SANDBOX_SCRIPT_ID" > {out}\n'
        'usacloud switch create -y --name "web-$USACLOUD_SANDBOX_RUN_ID" -q\n',
    )
    result = e2e.run("--usacloud-cleanup=off")
    result.assert_outcomes(passed=1)
    run_id, script_id = out.read_text().split()
    assert script_id.startswith(run_id + "-") and names(e2e, "switch") == [f"web-{run_id}"]
    assert f"{TAG_LINE}{run_id}" in result.stdout.str()  # the same run: its tag is made of that id


def test_a_create_with_ten_tags_is_refused_before_it_runs(e2e):
    tags = ",".join(f"t{i}" for i in range(10))
    e2e.script("a.usacloud", f"usacloud switch create -y --name sw --tags {tags}\n")
    result = e2e.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*refused by the sandbox policy (run-tag): `switch` already has 10 tags*"])
    assert not e2e.calls()


def test_fake_mode_script_cleanup_empties_each_scripts_own_store(e2e):
    e2e.script("a.usacloud", "usacloud switch create -y --name sw -q\nusacloud switch list -q\n")
    result = e2e.run("--usacloud-fake", "--usacloud-cleanup=script", f"--usacloud-report={e2e.tmp / 'report.json'}")
    result.assert_outcomes(passed=1)
    store = next(c["store"] for c in e2e.calls())
    deletes = [c for c in e2e.own_calls() if c["argv"][1] == "delete"]
    assert len(deletes) == 1 and deletes[0]["store"] == store  # on the script's own store
    assert report(e2e)["scripts"][0]["cleanup"]["deleted"] == 1


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--usacloud-allow-dangerous=bogus", "is not one of on, off, any"),
        ("--usacloud-sweep=-1", "is not a number of hours"),
        ("--usacloud-cleanup=never", "invalid choice: 'never' (choose from 'run', 'script', 'off')"),
        ("--usacloud-cleanup-timeout=0", "must be a positive number"),
    ],
)
def test_bad_cleanup_options_are_usage_errors(e2e, option, message):
    e2e.script("a.usacloud", "usacloud zone list\n")
    result = e2e.usage_error(option)
    assert message in result.stderr.str()


def test_a_servers_own_disk_goes_with_it_and_a_connected_one_stays(e2e):
    make(e2e, "disk create -y --name theirs --size 20")
    theirs = state(e2e)["disk"][0]["ID"]
    e2e.script("a.usacloud", "usacloud server create -y --name web --disk-size 20 -q\n")
    e2e.script("b.usacloud", f"usacloud server create -y --name db --disk-id {theirs} -q\n")
    e2e.run().assert_outcomes(passed=2)
    assert state(e2e)["server"] == [] and names(e2e, "disk") == ["theirs"]
    deletes = {a[-1]: a for a in (c["argv"] for c in e2e.own_calls()) if a[:2] == ["server", "delete"]}
    assert sorted("--with-disks" in a for a in deletes.values()) == [False, True]


def test_what_a_worker_on_another_host_made_reaches_the_teardown(e2e):
    """A worker that cannot see the run directory sends its journal up xdist's channel."""
    from hosts import e2e_host, tx

    wrapper = e2e_host(e2e)
    e2e.script("a.usacloud", "usacloud switch create -y --name far -q\n")
    result = e2e.run(*tx(0, 1, wrapper), f"--usacloud-report={e2e.tmp / 'report.json'}")
    result.assert_outcomes(passed=1)
    assert report(e2e)["scripts"][0]["worker"] == "gw0"
    assert names(e2e, "switch") == []
    result.stdout.fnmatch_lines(["cleanup: 1 deleted, 0 left*"])


def test_teardown_calls_retry_a_429_and_stop_at_the_cleanup_timeout(e2e):
    e2e.rules(
        [
            {"match": "disk delete -y --argument-match-mode exact --zone tk1v", "stderr": framed(RATE_429), "times": 1},
            {
                "match": "switch delete -y --argument-match-mode exact --zone tk1v",
                "sleep": 300,
            },  # switches go after disks
        ]
    )
    e2e.script("a.usacloud", "usacloud switch create -y --name sw -q\nusacloud disk create -y --name d --size 20 -q\n")
    report_path = e2e.tmp / "report.json"
    result = e2e.run("--usacloud-cleanup-timeout=3", "--usacloud-retry-backoff=0.1", f"--usacloud-report={report_path}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["cleanup: 1 deleted, 1 left*the teardown ended early: it reached --usacloud-cleanup-timeout (3s)"]
    )
    commands = {c["words"][1] + " " + c["words"][2]: c for c in report(e2e)["cleanup"]["commands"]}
    assert len(commands["disk delete"]["attempts"]) == 2  # the 429, then the delete
    assert commands["switch delete"]["status"] == "cancelled"
    assert names(e2e, "switch") == ["sw"] and names(e2e, "disk") == []


def test_the_options_are_ini_keys_too(e2e):
    e2e.pytester.makeini("[pytest]\nusacloud_cleanup = off\nusacloud_allow_dangerous = any\n")
    make(e2e, "switch create -y --name web-2")
    e2e.script("a.usacloud", "usacloud switch create -y --name web -q\nusacloud switch delete -y web\n")
    result = e2e.run()
    result.assert_outcomes(passed=1)
    assert names(e2e, "switch") == [] and not e2e.own_calls()  # any: as written; off: no teardown


def test_the_live_progress_says_the_run_is_cleaning_up(e2e):
    e2e.rules([{"match": "switch delete -y --argument-match-mode exact --zone tk1v", "sleep": 1.5}])
    e2e.script("a.usacloud", "usacloud switch create -y --name sw -q\n")
    result = e2e.run("--usacloud-progress-interval=0.3", "-q", inprocess=False)  # lines on its own fd 1
    result.assert_outcomes(passed=1)
    assert any(line.startswith("usacloud: cleaning up (") for line in result.stdout.lines), result.stdout.str()


def test_an_id_the_run_created_is_matched_like_any_target(e2e):
    """usacloud matches an ID against names too (by substring): another team's `...-for-ID` would go
    with the run's own. The ID is listed like any target: such a match refuses the delete; the
    teardown deletes the run's switch by its ID alone (`--argument-match-mode exact`)."""
    make(e2e, "switch create -y --name probe")
    mine = str(int(state(e2e)["switch"][0]["ID"]) + 2)  # the stand-in's IDs are sequential
    make(e2e, f"switch create -y --name other-team-uplink-for-{mine}")
    e2e.script(
        "a.usacloud",
        "# pytest.mark.usacloud_shell\nset -e\n"
        'ID=$(usacloud switch create -y --name mine -q)\nusacloud switch delete -y "$ID"\n',
    )
    result = e2e.run("--usacloud-allow-dangerous")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [f"*(ownership): `switch` '{mine}' matches other-team-uplink-for-{mine} (ID *), not created by this run*"]
    )
    assert not [c for c in e2e.calls() if c["argv"][:2] == ["switch", "delete"]]
    assert names(e2e, "switch") == [f"other-team-uplink-for-{mine}", "probe"]  # the run's `mine` went, exactly
    delete = next(c["argv"] for c in e2e.own_calls() if c["argv"][:2] == ["switch", "delete"])
    assert delete[2:5] == ["-y", "--argument-match-mode", "exact"] and delete[-1] == mine


def test_the_teardown_deletes_an_untagged_kind_by_its_id_alone(e2e):
    """A packet filter takes no tag: the ID its create printed. Another team's `rules-for-ID` stays."""
    make(e2e, "switch create -y --name probe")
    mine = str(int(state(e2e)["switch"][0]["ID"]) + 2)
    make(e2e, f"packet-filter create -y --name other-team-rules-for-{mine}")
    e2e.script("a.usacloud", "usacloud packet-filter create -y --name ours -q\n")
    result = e2e.run(f"--usacloud-report={e2e.tmp / 'report.json'}")
    result.assert_outcomes(passed=1)
    assert names(e2e, "packet-filter") == [f"other-team-rules-for-{mine}"]
    result.stdout.fnmatch_lines(["cleanup: 1 deleted, 0 left*"])


def test_the_teardown_leaves_what_another_command_gave_the_runs_tag(e2e):
    """Only the run's creates make what the teardown deletes: a tag is a value any command can set
    (here a direct call, past the sandbox); such a resource is left and named."""
    from standin_tools import STANDIN_BIN

    make(e2e, "switch create -y --name shared-team-switch --tags team=net")
    e2e.script(
        "a.usacloud",
        "# pytest.mark.usacloud_shell\nusacloud switch create -y --name my-own-switch -q\n"
        f"SAKURACLOUD_ZONE=tk1v {STANDIN_BIN} switch update -y shared-team-switch --tags team=net "
        '--tags "$USACLOUD_SANDBOX_RUN_TAG" > /dev/null\n',
    )
    result = e2e.run(f"--usacloud-report={e2e.tmp / 'report.json'}")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK  # not the run's: it does not fail the session
    assert names(e2e, "switch") == ["shared-team-switch"]
    result.stdout.fnmatch_lines(
        ["cleanup: 1 deleted, 1 left*", "  left: switch * 'shared-team-switch' (tk1v): it carries the run's tag, but*"]
    )


def test_a_script_cannot_give_another_resource_the_runs_tag(e2e):
    make(e2e, "switch create -y --name shared-team-switch --tags team=net")
    e2e.shell_script(
        "tag.usacloud",
        """
        usacloud switch create -y --name my-own-switch -q
        usacloud switch update -y shared-team-switch --tags team=net --tags "$USACLOUD_SANDBOX_RUN_TAG"
        """,
    )
    e2e.script("tag-commands.usacloud", "usacloud switch update -y shared-team-switch --tags usacloud-run=x\n")
    result = e2e.run("--usacloud-error-policy=continue")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*(run-tag): `switch update` gives the tag usacloud-run=*only the plugin gives*"])
    assert not [a for a in e2e.argvs() if a[:2] == ["switch", "update"]]
    assert names(e2e, "switch") == ["shared-team-switch"]
    result.stdout.fnmatch_lines(["cleanup: 1 deleted, 0 left*"])


def test_the_match_mode_is_usaclouds_and_a_target_matching_nothing_is_not_passed_on(e2e):
    """usacloud reads SAKURA_ARGUMENT_MATCH_MODE before SAKURACLOUD_ARGUMENT_MATCH_MODE: here `partial`,
    so `web` matches another team's web-2. A target the listing does not match fails as not found,
    never reaching usacloud (which matches in its own way)."""
    make(e2e, "switch create -y --name web-2")
    e2e.script(
        "modes.usacloud",
        "usacloud switch create -y --name web-1 -q\n"
        "SAKURA_ARGUMENT_MATCH_MODE=partial SAKURACLOUD_ARGUMENT_MATCH_MODE=exact usacloud switch delete -y web\n",
    )
    e2e.script(
        "nothing.usacloud",
        "usacloud switch create -y --name web-3 -q\n"
        "SAKURACLOUD_ARGUMENT_MATCH_MODE=exact usacloud switch delete -y web\n",
    )
    report_path = e2e.tmp / "report.json"
    result = e2e.run(
        "--usacloud-allow-dangerous", "--usacloud-error-policy=continue", f"--usacloud-report={report_path}"
    )
    result.assert_outcomes(failed=2)
    scripts = {s["path"].rsplit("/", 1)[-1]: s["commands"][1] for s in report(e2e)["scripts"]}
    assert "(ownership): `switch` 'web' matches web-2" in scripts["modes.usacloud"]["message"]
    missing = scripts["nothing.usacloud"]
    assert (missing["status"], missing["cls"]) == ("failed", "not-found")
    assert missing["message"].startswith('target resource not found: query=["web"]')
    assert not [a for a in e2e.argvs() if a[:2] == ["switch", "delete"]]
    assert names(e2e, "switch") == ["web-2"]


def test_a_plan_change_is_a_power_action_on_what_the_run_made_only(e2e):
    make(e2e, "server create -y --name team-b-web-1 --cpu 1 --memory 1")  # another team's
    e2e.script("scale.usacloud", "usacloud server update -y web --cpu 2\n")
    result = e2e.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*(dangerous): `server update --cpu` changes the plan: a plan change shuts*"])
    result = e2e.run("--usacloud-allow-dangerous")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*(ownership): `server` 'web' matches team-b-web-1 (ID *), not created by this run*"])
    assert not any(a[:2] == ["server", "update"] for a in e2e.argvs())


def test_sims_on_a_mobile_gateway_need_global_writes(e2e):
    sims = '[{"SIMID":"113000000777","IPAddress":"192.168.0.10"}]'
    e2e.script(
        "mgw.usacloud",
        "usacloud mobile-gateway create -y --name ci-mgw --private-interface-switch-id 123456789012 "
        f"--private-interface-ip-address 192.168.0.1 --private-interface-network-mask-len 24 --sims '{sims}'\n",
    )
    result = e2e.run("--usacloud-allow-dangerous")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*(global-write): `mobile-gateway create --sims` adds the listed SIMs*is1a*"])
    assert e2e.argvs() == []
