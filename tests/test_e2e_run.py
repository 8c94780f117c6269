"""End to end: scripts collected as items, commands run in the sandbox zone against the stand-in."""

import pytest
from standin_tools import AUTH_401, framed, pids_alive

SECRET_TOKEN = "tok-6f1d2c9e0aa7"
SECRET_SECRET = "sec-93be77d01c55"


@pytest.mark.parametrize("workers", [0, 2])
def test_runs_commands_in_tk1v(e2e, workers):
    e2e.script(
        "a.usacloud",
        """
        # list in a production zone: rewritten
        usacloud server list --zone is1a -o json | jq length
        usacloud iaas switch create -y --name sw1 --zone=all
        """,
    )
    e2e.script("b.usacloud", "usacloud zone list -q\nusacloud disk ls --zone=is1b\n")
    result = e2e.run("-v", workers=workers)
    result.assert_outcomes(passed=2)
    argvs = sorted(e2e.argvs())
    assert argvs == sorted(
        [
            ["server", "list", "--zone", "tk1v", "-o", "json"],
            ["iaas", "switch", "create", "-y", "--name", "sw1", "--zone=tk1v"],
            ["zone", "list", "-q"],
            ["disk", "ls", "--zone=tk1v"],
        ]
    )
    for call in e2e.calls():
        assert call["zone_env"] == "tk1v" and call["zones_env"] == "tk1v" and call["sakura_zone_env"] == "tk1v"
        assert call["exit"] == 0
    # -v lists each command's status under its script
    result.stdout.fnmatch_lines(["*ok * line 2 * usacloud server list --zone tk1v -o json*"])


def test_order_is_deterministic_and_k_selects(e2e):
    for name in ("gamma.usacloud", "alpha.usacloud", "sub/beta.usacloud", "delta.txt"):
        e2e.script(name, "usacloud zone list\n")
    first = [line for line in e2e.run("--collect-only", "-q").stdout.lines if "::" in line]
    assert first == [
        "scripts/alpha.usacloud::alpha",
        "scripts/gamma.usacloud::gamma",
        "scripts/sub/beta.usacloud::beta",
    ]
    again = [line for line in e2e.run("--collect-only", "-q").stdout.lines if "::" in line]
    assert again == first
    result = e2e.run("-k", "gamma or beta", "-q")
    result.assert_outcomes(passed=2, deselected=1)
    assert len(e2e.calls()) == 2


def test_markers_from_the_header(e2e):
    e2e.script("skipped.usacloud", '#!/bin/bash\n# pytest.mark.skip(reason="not in tk1v")\nusacloud zone list\n')
    e2e.script("skipif.usacloud", "# pytest.mark.skipif(True, reason='literal condition')\nusacloud zone list\n")
    e2e.script("xfail.usacloud", "# pytest.mark.xfail(strict=True)\nusacloud server lsit\n")
    e2e.script("slow.usacloud", "# pytest.mark.slow\nusacloud zone list\n")
    e2e.script("critical.usacloud", "# pytest.mark.usacloud_critical\nusacloud region list\n")
    e2e.pytester.makeini("[pytest]\nmarkers =\n    slow: slow scripts\n")
    result = e2e.run("-rs", "--strict-markers")
    result.assert_outcomes(passed=2, skipped=2, xfailed=1)
    result.stdout.fnmatch_lines_random(["*not in tk1v*", "*literal condition*"])
    assert sorted(a[0] for a in e2e.argvs()) == ["region", "zone"]
    result = e2e.run("-m", "slow", "-q")
    result.assert_outcomes(passed=1)
    result = e2e.run("-m", "usacloud_critical", "-q", "--strict-markers")
    result.assert_outcomes(passed=1)


def test_a_warning_about_a_marker_points_at_the_script_line(e2e):
    e2e.script("team/unknown.usacloud", "#!/bin/bash\n# pytest.mark.nosuchmarker\nusacloud zone list\n")
    result = e2e.run("-p", "no:randomly")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "scripts/team/unknown.usacloud:2",
            "  *scripts/team/unknown.usacloud:2: PytestUnknownMarkWarning: Unknown pytest.mark.nosuchmarker*",
            "    # pytest.mark.nosuchmarker",
        ]
    )
    assert "items.py" not in result.stdout.str()
    # a warning made an error is the script's, at that line; the others go on
    e2e.script("good.usacloud", "usacloud zone list\n")
    result = e2e.run("-W", "error::pytest.PytestUnknownMarkWarning")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["invalid-script: bad marker 'nosuchmarker': Unknown pytest.mark.nosuchmarker*", "  at *unknown.usacloud:2"]
    )


def test_unregistered_marker_and_unsafe_condition_fail_the_item_only(e2e):
    e2e.script("unknown.usacloud", "# pytest.mark.nosuchmarker\nusacloud zone list\n")
    e2e.script(
        "evil.usacloud", "# pytest.mark.skipif(\"__import__('os').system('touch PWNED')\")\nusacloud zone list\n"
    )
    e2e.script("call.usacloud", "# pytest.mark.skipif(__import__('os').getpid())\nusacloud zone list\n")
    e2e.script("hidden.usacloud", "# pytest.mark.xfail\n# pytest.mark.nosuchmarker\nusacloud zone list\n")
    e2e.script("good.usacloud", "usacloud zone list\n")
    result = e2e.run("--strict-markers")
    result.assert_outcomes(passed=1, failed=4)  # an xfail beside a bad marker does not hide it
    result.stdout.fnmatch_lines_random(
        [
            "invalid-script: bad marker 'nosuchmarker'*",
            "  at *unknown.usacloud:1",
            "invalid-script: bad marker 'skipif': the condition must be a literal*",
            "  at *evil.usacloud:1",
            "invalid-script: *",
            "  at *call.usacloud:1",
        ]
    )
    assert not (e2e.pytester.path / "PWNED").exists()


def test_non_usacloud_words_never_run_and_expansions_are_skipped(e2e):
    marker = e2e.tmp / "touched"
    e2e.script(
        "mixed.usacloud",
        f"""
        set -e
        touch {marker}
        SERVER_ID=123456789012
        usacloud server read $SERVER_ID
        usacloud server list --names "${{PREFIX}}web"
        echo "$(usacloud zone list -q)" > /dev/null
        ls ~; usacloud disk read ~/x
        usacloud archive list --os-type ubuntu 2>&1 | tee {marker}
        """,
    )
    result = e2e.run("-v")
    assert result.ret == 0 and result.parseoutcomes() == {"partly": 1}  # 1 partly run
    assert not marker.exists()
    assert e2e.argvs() == [["zone", "list", "-q"], ["archive", "list", "--os-type", "ubuntu"]]
    result.stdout.fnmatch_lines(
        [
            "*skipped * line 4 *needs shell expansion: $SERVER_ID*",
            "*skipped * line 5 *needs shell expansion: ${PREFIX}*",
            "*skipped * line 7 *needs shell expansion: ~*",
        ]
    )


def test_stops_at_the_first_failing_command(e2e):
    e2e.script(
        "stops.usacloud",
        """
        usacloud zone list
        usacloud server read no-such-server
        usacloud region list
        """,
    )
    result = e2e.run()
    result.assert_outcomes(failed=1)
    assert [a[0] for a in e2e.argvs()] == ["zone", "server"]
    result.stdout.fnmatch_lines(
        [
            "not-found: target resource not found*",
            "  at *stops.usacloud:2",
            "*line 2: usacloud server read no-such-server",
            "*ran: * usacloud server read no-such-server*",
            "*exit code 1, class not-found*",
            "*hint: *",
            "*not-run * line 3 * usacloud region list*",
        ]
    )


def test_failure_text_masks_credentials_everywhere(e2e):
    e2e.env(SAKURACLOUD_ACCESS_TOKEN=SECRET_TOKEN, SAKURACLOUD_ACCESS_TOKEN_SECRET=SECRET_SECRET)
    e2e.rules([{"match": "server list", "exit": 1, "stderr": framed(AUTH_401 + " token=" + SECRET_TOKEN)}])
    e2e.script("auth.usacloud", f"usacloud server list --token {SECRET_TOKEN} --secret={SECRET_SECRET}\n")
    junit = e2e.tmp / "junit.xml"
    result = e2e.run("-v", f"--junitxml={junit}", "--usacloud-error-policy=continue")
    result.assert_outcomes(failed=1)
    text = result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(
        [
            "auth: Error in response: *401 Unauthorized*",
            "  at *auth.usacloud:1",
            "*ran: * usacloud server list --token [*][*][*] --secret=[*][*][*]",
            "*hint: check SAKURACLOUD_ACCESS_TOKEN*",
        ]
    )
    xml = junit.read_text()
    for secret in (SECRET_TOKEN, SECRET_SECRET):
        assert secret not in text
        assert secret not in xml
    assert 'name="usacloud_class" value="auth"' in xml
    assert 'name="usacloud_commands_run" value="1"' in xml
    # the child did get the real values
    assert SECRET_TOKEN in e2e.argvs()[0]


def test_policy_refusals_are_never_executed(e2e):
    e2e.script("delete.usacloud", "usacloud server list\nusacloud server delete -y --argument-match-mode exact web\n")
    e2e.script("note.usacloud", "usacloud note create -y --name n --class shell --content x\n")
    result = e2e.run("--usacloud-error-policy=continue")
    result.assert_outcomes(failed=2)
    assert e2e.argvs() == [["server", "list"]]
    result.stdout.fnmatch_lines(
        [
            "refused: refused by the sandbox policy (dangerous)*--usacloud-allow-dangerous*",
            "  at *delete.usacloud:2",
            "refused: *(global-write)*--usacloud-allow-global-writes*",
            "  at *note.usacloud:1",
        ]
    )
    e2e.script(
        "delete.usacloud",
        "usacloud server create -y --name web\nusacloud server delete -y --argument-match-mode exact web\n",
    )
    result = e2e.run("--usacloud-allow-dangerous", "--usacloud-allow-global-writes", "--usacloud-error-policy=continue")
    result.assert_outcomes(passed=2)
    # the delete ran on the server this run created, by its ID (the name was resolved first)
    deletes = [a for a in e2e.argvs() if a[:2] == ["server", "delete"]]
    assert len(deletes) == 1 and deletes[0][:-1] == ["server", "delete", "--argument-match-mode", "exact", "-y"]
    assert deletes[0][-1].isdigit()


def test_offline_check_fails_before_any_call(e2e):
    e2e.script("typo.usacloud", "usacloud server lsit\n")
    e2e.script("noyes.usacloud", "usacloud switch create --name a\n")
    e2e.script("global.usacloud", "usacloud dns list --zone is1a\n")
    result = e2e.run("--usacloud-error-policy=continue")
    result.assert_outcomes(failed=3)
    assert e2e.calls() == []
    result.stdout.fnmatch_lines_random(
        [
            "usage: *lsit*did you mean list*",
            "  at *typo.usacloud:1",
            "usage: *-y*",
            "  at *noyes.usacloud:1",
            "usage: *--zone*",
            "  at *global.usacloud:1",
        ]
    )


def test_dry_run_executes_nothing_and_needs_no_binary(e2e):
    e2e.script("ok.usacloud", "usacloud server list --zone is1a\n")
    e2e.script("refused.usacloud", "usacloud server reset -y web\n")
    result = e2e.run("--usacloud-bin=/nonexistent/usacloud", "--usacloud-dry-run", "-v")  # the last one given wins
    result.assert_outcomes(passed=1, failed=1)
    assert e2e.calls() == []
    result.stdout.fnmatch_lines(["*dry-run * line 1 * usacloud server list --zone tk1v*"])


def test_timeout_terminates_the_process_group(e2e):
    e2e.env(STANDIN_LATENCY=60, STANDIN_SPAWN_CHILD=1, STANDIN_CHILD_SLEEP=120)
    e2e.script("slow.usacloud", "usacloud zone list\nusacloud region list\n")
    result = e2e.run("--usacloud-timeout=1", "--no-usacloud-preflight")  # every call is slow, the preflight's too
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["timeout: timed out after*", "  at *slow.usacloud:1", "*not-run * line 2*"])
    events = e2e.events()
    pids = [e["pid"] for e in events if e.get("event") == "start"] + [
        e["child_pid"] for e in events if e.get("event") == "spawn"
    ]
    assert len(pids) == 2
    assert pids_alive(e2e.pids(version=True)) == []  # the header's `usacloud version` (ended at its timeout) too


def test_exit_zero_errors_are_failures(e2e):
    # the run's own environment names the profile (a script may not: `--profile` is refused)
    e2e.env(SAKURACLOUD_PROFILE="nosuchprofile")
    e2e.script("profile.usacloud", "usacloud server list\n")
    # else usacloud sees no profile at all; without the preflight, which would stop the run first
    result = e2e.run("--usacloud-allow-profiles", "--no-usacloud-preflight")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["config: API Error - failed to open * (usacloud exited 0 without running*", "  at *profile.usacloud:1"]
    )
    assert e2e.calls()[0]["exit"] == 0
    # by default the preflight stops the run before the script, naming the profile
    stopped = e2e.run("--usacloud-allow-profiles")
    assert stopped.ret == pytest.ExitCode.USAGE_ERROR
    stopped.stderr.fnmatch_lines(["ERROR: usacloud preflight failed (profile): *"])
    assert len(e2e.calls()) == 1 and len(e2e.preflight_calls()) == 1


def test_fake_mode_gets_one_store_per_script(e2e):
    e2e.script(
        "one.usacloud", "usacloud switch create -y --name s1\nusacloud switch read --argument-match-mode exact s1\n"
    )
    e2e.script(
        "two.usacloud", "usacloud switch create -y --name s2\nusacloud switch read --argument-match-mode exact s2\n"
    )
    e2e.env(STANDIN_STATE="")
    result = e2e.run("--usacloud-fake", workers=2)
    result.assert_outcomes(passed=2)
    calls = e2e.calls()
    assert {c["fake_mode"] for c in calls} == {"1"}
    stores = {}
    for call in calls:
        stores.setdefault(call["argv"][3].split()[-1] if False else call["argv"][-1][-2:], set()).add(
            call["fake_store"]
        )
    assert len({c["fake_store"] for c in calls}) == 2
    assert all(len(v) == 1 for v in stores.values())


def test_ini_settings(e2e):
    e2e.script(
        "delete.usacloud",
        "usacloud server create -y --name x\nusacloud server delete -y --argument-match-mode exact x\n",
    )
    e2e.pytester.makeini(f"[pytest]\nusacloud_scripts = {e2e.dir}\nusacloud_allow_dangerous = true\n")
    result = e2e.run(scripts=False)
    result.assert_outcomes(passed=1)


def test_last_failed_reruns_only_failures(e2e):
    e2e.script("good.usacloud", "usacloud zone list\n")
    e2e.script("bad.usacloud", "usacloud server read nope\n")
    e2e.run("-p", "cacheprovider").assert_outcomes(passed=1, failed=1)
    assert len(e2e.calls()) == 2
    result = e2e.run("-p", "cacheprovider", "--lf", "-q")
    result.assert_outcomes(failed=1)
    assert [c["argv"] for c in e2e.calls()[2:]] == [["server", "read", "nope"]]


def test_scripts_option_is_repeatable_and_takes_files(e2e):
    e2e.script("one/a.usacloud", "usacloud zone list\n")
    e2e.script("one/b.usacloud", "usacloud region list\n")
    other = e2e.script("two/c.usacloud", "usacloud server list\n")
    e2e.pytester.makepyfile(test_unrelated="def test_x():\n    pass\n")  # not collected: only the given paths
    result = e2e.run(f"--usacloud-scripts={e2e.dir / 'one'}", f"--usacloud-scripts={other}", scripts=False)
    result.assert_outcomes(passed=3)
    assert sorted(a[0] for a in e2e.argvs()) == ["region", "server", "zone"]
    # with positional paths too, both are collected
    e2e.pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    result = e2e.run(str(e2e.pytester.path / "test_plain.py"), f"--usacloud-scripts={other}", scripts=False)
    result.assert_outcomes(passed=2)
    result = e2e.usage_error("--usacloud-scripts=does/not/exist", scripts=False)
    assert "does not exist" in result.stderr.str()
