"""The real-usacloud tier, continued: what the sandbox rests on, shown with the real usacloud 1.22.x in
a network namespace with no network (``real_tier.py``: the same harness, fixtures and skips).

* files: usacloud reads "path or content" values and uploads files; the plugin refuses what would read
  its own environment or leave the script's directory;
* FTP: the fake driver fakes the API, and an upload or download dials the FTP host it names;
* matching: an ID is matched against names too; ``--argument-match-mode exact`` stops that, and the
  teardown's and the ownership check's deletes go by ID alone.
"""

from __future__ import annotations

import json
import os
import shlex

import netns
import pytest
from real_tier import QUICK_RETRIES, SECRET, SHELL, TOKEN, commands_of
from standin_tools import run_standin, standin_env

from pytest_usacloud_sandbox.usacloud import commands

pytestmark = [pytest.mark.real_usacloud, pytest.mark.netns]
FTP_HOST = "sac-tk1v-ftp.example.jp"


def fake_env(tmp_path, **more) -> dict:
    """usacloud's own fake mode with a store, for calls of the binary without the plugin."""
    return {
        "PATH": os.defpath,
        "HOME": str(tmp_path),
        "SAKURACLOUD_ACCESS_TOKEN": TOKEN,
        "SAKURACLOUD_ACCESS_TOKEN_SECRET": SECRET,
        "SAKURACLOUD_FAKE_MODE": "1",
        "SAKURACLOUD_FAKE_STORE_PATH": str(tmp_path / "store.json"),
        "SAKURACLOUD_ZONE": "tk1v",
        "SAKURACLOUD_ZONES": "tk1v",
        "SAKURACLOUD_PROFILE_DIR": str(tmp_path / "no-profiles"),
        "USACLOUD_NO_VERSION_CHECK": "1",
        **QUICK_RETRIES,
        **more,
    }


# -- files -------------------------------------------------------------------------------------------


def test_files_outside_the_script_and_process_paths_are_refused_and_the_key_reaches_nothing(real):
    """`--format /proc/self/cwd/FILE` is the script's FILE to usacloud (it runs there), and
    `--source-file /proc/self/environ` or `--content /proc/self/environ` its own environment."""
    (real.dir / "tpl.txt").write_text('{{printf "%x" (file "/proc/self/environ")}}')
    got = real.tmp / "got"
    real.script("cwd.usacloud", "usacloud zone list --format /proc/self/cwd/tpl.txt\n")
    real.script("upload.usacloud", "usacloud archive create -y --name env --size 20 --source-file /proc/self/environ\n")
    real.script("note.usacloud", "usacloud note create -y --name env --content /proc/self/environ -q\n")
    real.script(
        "shell-cwd.usacloud",
        SHELL + f"usacloud zone list --format /proc/self/cwd/tpl.txt > {got} || echo refused >> {got}\n",
    )
    out = real.run("--usacloud-allow-global-writes", "--usacloud-error-policy=continue", "-rA", api=[])
    assert out.ret == 1, out.text
    for name in ("cwd", "upload", "note", "shell-cwd"):
        (cmd,) = commands_of(out, name)
        assert cmd["status"] == "refused" and "(reads-file)" in cmd["message"] and "in /proc" in cmd["message"], cmd
    assert got.read_text() == "refused\n"
    written = out.text + json.dumps(out.report) + got.read_text()
    for secret in (TOKEN, SECRET):
        assert secret not in written and secret.encode().hex() not in written
    assert [r for r in out.requests if r["method"] != "GET"] == []  # nothing made, nothing sent


def test_a_file_beside_the_script_is_read_as_usacloud_reads_it(real):
    """What the rule lets through works: a note's content from a file of the script's directory."""
    (real.dir / "notes").mkdir()
    (real.dir / "notes" / "hello.sh").write_text("#!/bin/sh\necho hello\n")
    real.script("note.usacloud", "usacloud note create -y --name n --content notes/hello.sh -o json\n")
    out = real.run("--usacloud-allow-global-writes", api=[])
    assert out.ret == 0, out.text
    (cmd,) = commands_of(out, "note")
    assert json.loads(cmd["stdout_tail"])[0]["Content"] == "#!/bin/sh\necho hello\n"


# -- FTP in fake mode ----------------------------------------------------------------------------------


def test_uploads_and_downloads_dial_the_fake_ftp_host_and_the_table_says_so(real_bin, tmp_path):
    """Without the plugin, in usacloud's own fake mode: each subcommand the table marks ``ftp`` (and
    `archive create --source-file`) looks the FTP host up, and fails there (no network); an archive
    made from a disk does not."""
    (tmp_path / "d.raw").write_bytes(b"\0" * 1024)
    u = real_bin
    script = f"""
    run() {{ echo "$1 $({u} $2 2>&1 | grep -c {FTP_HOST})"; }}
    D=$({u} disk create -y --name d --size 20 -q)
    A=$({u} archive create -y --name a --source-disk-id $D -q) && echo "made $A"
    run "cdrom create" "cdrom create -y --name iso-made-here --size 5 --source-file d.raw"
    C=$({u} cdrom list --names iso-made-here --argument-match-mode exact -q)
    run "archive create" "archive create -y --name up --size 20 --source-file d.raw"
    run "archive upload" "archive upload -y --source-file d.raw $A"
    run "archive download" "archive download -y $A"
    run "cdrom upload" "cdrom upload -y --source-file d.raw $C"
    run "cdrom download" "cdrom download -y --destination o.iso $C"
    """
    done = netns.run(["bash", "-c", script], fake_env(tmp_path), cwd=tmp_path, timeout=600)
    counts = {" ".join(line.split()[:2]): line.split()[-1] for line in done.stdout.splitlines() if line}
    assert [k for k in counts if k.startswith("made ")], done.stdout + done.stderr  # no FTP for this one
    counts = {k: v for k, v in counts.items() if not k.startswith("made ")}
    assert counts == dict.fromkeys(
        ["cdrom create", "archive create", "archive upload", "archive download", "cdrom upload", "cdrom download"], "1"
    ), done.stdout + done.stderr
    ftp = {(r.name, s.name) for r in commands.all_resources() for s in r.subcommands if s.unfaked == "ftp"}
    assert ftp == {("archive", "upload"), ("archive", "download"), ("cdrom", "create")} | {
        ("cdrom", "upload"),
        ("cdrom", "download"),
    }
    assert commands.find_resource("archive").find_subcommand("create").find_flag("--source-file").file == "upload"


def test_fake_mode_refuses_what_would_dial_the_ftp_host(real):
    (real.dir / "d.raw").write_bytes(b"\0" * 1024)
    real.script("upload.usacloud", "usacloud archive create -y --name up --size 20 --source-file d.raw\n")
    real.script("iso.usacloud", "usacloud cdrom create -y --name iso --size 5 --source-file d.raw\n")
    out = real.run("--usacloud-fake", "--usacloud-error-policy=continue")
    assert out.ret == 1, out.text
    for name in ("upload", "iso"):
        (cmd,) = commands_of(out, name)
        assert cmd["status"] == "refused" and "(fake-mode)" in cmd["message"] and "FTP" in cmd["message"], cmd
    assert FTP_HOST not in out.text.replace(f"({FTP_HOST}", "")  # named in the refusal, never dialled


# -- matching IDs --------------------------------------------------------------------------------------


def test_an_id_matches_names_containing_it_unless_the_mode_is_exact(real_bin, tmp_path):
    """The fact the plugin's deletes rest on: `delete ID` also removes `xIDy`; with
    `--argument-match-mode exact` only the ID's own resource (and one named or tagged exactly so) goes."""
    u = real_bin
    names = f"{u} switch list -o json | tr -d ' \\n' | grep -o '\"Name\":\"[^\"]*\"' | sort | tr '\\n' ' '; echo"
    script = f"""
    A=$({u} switch create -y --name ours -q); {u} switch create -y --name "x${{A}}y" -q > /dev/null
    {u} switch delete -y --argument-match-mode exact "$A"; echo "exact: $({names})"
    B=$({u} switch create -y --name ours2 -q); {u} switch create -y --name "x${{B}}y" -q > /dev/null
    {u} switch delete -y "$B"; echo "partial: $({names})"
    """
    done = netns.run(["bash", "-c", script], fake_env(tmp_path), cwd=tmp_path, timeout=600)
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    assert '"Name":"x100000000010y"' in lines["exact"] and '"Name":"ours"' not in lines["exact"], done.stdout
    assert "ours2" not in lines["partial"] and "x100000000012y" not in lines["partial"], done.stdout


def test_the_teardown_deletes_by_id_alone(real):
    """Another team's packet filter and switch are named after the IDs the run's creates get."""
    seed = {
        "packetfilter": [{"Name": "other-team-rules-for-113000000003"}],  # 113000000001
        "switch": [{"Name": "other-team-uplink-for-113000000004"}],  # 113000000002
    }
    real.script(
        "made.usacloud", "usacloud packet-filter create -y --name ours -q\nusacloud switch create -y --name sw -q\n"
    )
    out = real.run(api=[], seed=seed)
    assert out.ret == 0, out.text
    made = [r["path"] for r in out.requests if r["method"] == "POST" and r["status"] == 201]
    deleted = [r["path"] for r in out.requests if r["method"] == "DELETE"]
    assert made == ["/packetfilter", "/switch"]
    assert sorted(deleted) == ["/packetfilter/113000000003", "/switch/113000000004"], out.requests
    assert (out.report["cleanup"]["deleted"], out.report["cleanup"]["left"]) == (2, 0)


def test_a_delete_in_a_script_touches_only_the_runs_own_whatever_the_match_mode_says(real):
    """The run's environment says `SAKURA_ARGUMENT_MATCH_MODE=partial`, the script
    `SAKURACLOUD_ARGUMENT_MATCH_MODE=exact`: usacloud reads SAKURA_ first, so `web` also matches
    another team's web-2, and the delete is refused. A captured ID matching another's name is too."""
    real.env["SAKURA_ARGUMENT_MATCH_MODE"] = "partial"
    real.script(
        "modes.usacloud",
        "usacloud switch create -y --name web-1 -q\n"
        "SAKURACLOUD_ARGUMENT_MATCH_MODE=exact usacloud switch delete -y web\n",
    )
    real.script(
        "captured.usacloud",
        SHELL + 'set -e\nID=$(usacloud switch create -y --name mine -q)\nusacloud switch delete -y "$ID"\n',
    )
    seed = {"switch": [{"Name": "web-2"}, {"Name": "other-team-uplink-for-113000000003"}]}  # captured runs first
    out = real.run(
        "--usacloud-allow-dangerous", "--usacloud-error-policy=continue", "-p", "no:randomly", api=[], seed=seed
    )
    assert out.ret == 1, out.text
    for name in ("modes", "captured"):
        delete = commands_of(out, name)[1]
        assert delete["status"] == "refused" and "(ownership)" in delete["message"], delete
    deleted = sorted(r["path"] for r in out.requests if r["method"] == "DELETE")
    assert "/switch/113000000001" not in deleted and "/switch/113000000002" not in deleted, deleted
    assert len(deleted) == 2  # the run's own two, by the teardown


def test_usaclouds_settings_get_the_checks_verdict(tmp_path, real_bin):
    """usacloud's Config.Validate on the match mode, the default output type and query driver: the
    real binary, the offline check and the stand-in give the same verdict on each case."""
    from test_check import SETTINGS_CASES

    from pytest_usacloud_sandbox.usacloud.check import check_command

    script = "".join(
        f'{" ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())} {real_bin} {command}; echo "exit $?" >&2\n'
        for env, command, _ in SETTINGS_CASES
    )
    done = netns.run(["bash", "-c", script], fake_env(tmp_path), cwd=tmp_path, timeout=600)
    answers = done.stderr.split("exit ")[:-1]
    assert len(answers) == len(SETTINGS_CASES), done.stderr
    for (env, command, word), answer in zip(SETTINGS_CASES, answers, strict=True):
        refused = "validation error:" in answer
        assert refused == (word is not None), (env, command, answer)
        errors = [f for f in check_command(["usacloud", *shlex.split(command)], env=env) if f.severity == "error"]
        assert bool(errors) == refused, (env, command)
        keys = {
            "SAKURACLOUD_ACCESS_TOKEN": TOKEN,
            "SAKURACLOUD_ACCESS_TOKEN_SECRET": SECRET,
            "SAKURACLOUD_ZONE": "tk1v",
        }
        standin = run_standin(shlex.split(command), standin_env(tmp_path, **keys, **env))
        assert ("validation error:" in standin.stderr, standin.returncode) == (refused, 0), (env, command)
