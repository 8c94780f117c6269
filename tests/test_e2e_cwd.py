"""End to end: usacloud runs in the script's directory, so relative files mean the script's neighbours
for the offline check, the policy and usacloud alike, wherever pytest was started."""

from __future__ import annotations

import json


def _neighbours(e2e, script: str) -> None:
    e2e.script("team/net.usacloud", script)
    (e2e.dir / "team" / "params.json").write_text(json.dumps({"Name": "web", "Zone": "tk1v"}))


def test_commands_mode_reads_parameters_next_to_the_script(e2e):
    _neighbours(e2e, "usacloud switch create -y --parameters params.json\n")
    result = e2e.run("--usacloud-fake")  # pytest runs in pytester's directory, not in scripts/team
    result.assert_outcomes(passed=1)
    [call] = e2e.calls()
    assert call["exit"] == 0
    assert call["cwd"] == str(e2e.dir / "team")


def test_shell_mode_starts_bash_in_the_script_directory_and_follows_its_cd(e2e):
    _neighbours(
        e2e,
        """\
        usacloud switch create -y --parameters params.json
        mkdir -p inner && cp params.json inner/ && cd inner
        usacloud switch read --parameters params.json web
        """,
    )
    result = e2e.run("--usacloud-fake", "--usacloud-mode=shell")
    result.assert_outcomes(passed=1)
    assert [c["cwd"] for c in e2e.calls()] == [str(e2e.dir / "team"), str(e2e.dir / "team" / "inner")]


def test_rest_data_naming_a_neighbour_file_is_refused(e2e):
    # `42` is valid JSON, so only the file next to the script tells that usacloud would upload it
    e2e.script("team/post.usacloud", "usacloud rest -X POST /cloud/zone/tk1v/api/cloud/1.1/note -d 42\n")
    (e2e.dir / "team" / "42").write_text("the team's private notes\n")
    result = e2e.run("--usacloud-dry-run")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*names a local file, which usacloud would upload*"])
    assert e2e.calls() == []


def test_parameters_beside_the_script_that_boot_a_server_are_refused_by_default(e2e):
    # pytest runs in pytester's directory; usacloud would read scripts/team/server.json and boot
    e2e.script("team/boot.usacloud", "usacloud server create -y --parameters server.json\n")
    server = {"Zone": "tk1v", "Name": "web", "CPU": 1, "Memory": 1, "BootAfterCreate": True}
    (e2e.dir / "team" / "server.json").write_text(json.dumps(server))
    (e2e.pytester.path / "server.json").write_text(json.dumps({**server, "BootAfterCreate": False}))
    result = e2e.run("--usacloud-fake")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*refused by the sandbox policy (dangerous)*BootAfterCreate*"])
    assert e2e.calls() == []
