"""Files usacloud reads or writes for a script stay in the script's own directory, in both modes
(rules ``reads-file`` / ``writes-file``), and fake mode moves no file over FTP."""

from __future__ import annotations

import json


def test_commands_mode_refuses_a_file_outside_the_script_and_runs_one_inside(e2e):
    (e2e.dir / "tpl.txt").write_text('{{printf "%x" (file "/proc/self/environ")}}')
    (e2e.dir / "disk.raw").write_bytes(b"\0" * 8)
    e2e.script("leak.usacloud", "usacloud zone list --format /proc/self/cwd/tpl.txt\n")
    e2e.script("upload.usacloud", "usacloud archive create -y --name env --size 20 --source-file /proc/self/environ\n")
    e2e.script("own.usacloud", "usacloud archive create -y --name own --size 20 --source-file disk.raw -q\n")
    report = e2e.tmp / "report.json"
    result = e2e.run(f"--usacloud-report={report}", "--usacloud-error-policy=continue")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*refused by the sandbox policy (reads-file): `--format /proc/self/cwd/tpl.txt`*"])
    assert [a[:2] for a in e2e.argvs()] == [["archive", "create"]]
    scripts = {s["path"].rsplit("/", 1)[-1]: s for s in json.loads(report.read_text())["scripts"]}
    assert scripts["upload.usacloud"]["commands"][0]["message"].startswith(
        "refused by the sandbox policy (reads-file): `--source-file /proc/self/environ` names a path in /proc"
    )


def test_shell_mode_judges_the_callers_directory_and_the_scripts_tree(e2e):
    outside = e2e.tmp / "outside"
    outside.mkdir()
    (outside / "notes.txt").write_text("not the script's")
    seen = e2e.tmp / "seen"
    e2e.shell_script(
        "cd.usacloud",
        f"""
        mkdir -p sub && echo hello > sub/notes.txt
        (cd sub && usacloud archive download -y --destination got.raw no-such-archive) || echo "sub: $?" >> {seen}
        cd {outside}
        usacloud archive download -y --destination got.raw 123 || echo "outside: $?" >> {seen}
        usacloud archive create -y --name n --size 20 --source-file notes.txt || echo "read: $?" >> {seen}
        """,
    )
    result = e2e.run("--usacloud-error-policy=continue")
    result.assert_outcomes(failed=1)
    assert seen.read_text() == "sub: 1\noutside: 1\nread: 1\n"
    # only the call inside the script's tree passed the file check: the ownership check's listing
    # (a download opens the archive's FTP share) found no such archive, so usacloud never ran
    assert not e2e.argvs()
    assert [c["argv"][:2] for c in e2e.own_calls()] == [["archive", "list"]]
    result.stdout.fnmatch_lines(['*target resource not found: query=?"no-such-archive"?*'])
    result.stdout.fnmatch_lines(
        ["*(writes-file): `--destination got.raw` names */outside/got.raw, outside the script*"]
    )


def test_fake_mode_refuses_an_upload_and_runs_the_rest(e2e):
    (e2e.dir / "disk.raw").write_bytes(b"\0" * 8)
    e2e.script("upload.usacloud", "usacloud archive create -y --name up --size 20 --source-file disk.raw\n")
    e2e.script("list.usacloud", "usacloud archive list -q\n")
    result = e2e.run("--usacloud-fake", "--usacloud-error-policy=continue")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*(fake-mode): usacloud does not fake `archive create` with `--source-file`: it moves the file over FTP*"]
    )
    assert e2e.argvs() == [["archive", "list", "-q"]]
    assert not [e for e in e2e.events() if e.get("event") == "network"]
