"""Flags whose value usacloud reads or writes as a local file (rules ``reads-file`` / ``writes-file``),
judged where usacloud runs; and the FTP transfers its fake driver does not fake."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_usacloud_sandbox.usacloud import commands
from pytest_usacloud_sandbox.usacloud.localfiles import Place, resolve
from pytest_usacloud_sandbox.usacloud.policy import Policy

EVERYTHING = {"allow_dangerous": True, "allow_global_writes": True}


def file_flags() -> list[tuple[str, str, commands.Flag]]:
    return [
        (res.name, sub.name, flag)
        for res in commands.all_resources()
        for sub in res.subcommands
        for flag in sub.flags
        if flag.file is not None
    ]


@pytest.fixture
def tree(tmp_path):
    """A script's directory (``s``) with a template, a data file and a link to /proc/self; a file
    beside it (outside the script's tree); a run directory."""
    s = tmp_path / "s"
    s.mkdir()
    (s / "tpl.txt").write_text('{{printf "%x" (file "/proc/self/environ")}}')
    (s / "data.raw").write_bytes(b"\0" * 16)
    (s / "keys").mkdir()
    (s / "keys" / "id.pub").write_text("ssh-ed25519 AAAA x\n")
    (s / "self").symlink_to("/proc/self")
    (s / "out").symlink_to(tmp_path)
    (tmp_path / "secret.txt").write_text("not the script's")
    (tmp_path / "run").mkdir()
    return tmp_path


def refusal(tree: Path, command: str, cwd: str = "s", **options):
    policy = Policy(cwd=tree / cwd, root=tree / "s", private=(tree / "run",), home=str(tree), **options)
    return policy.apply(["usacloud", *command.split()]).refusal


def test_the_table_marks_every_flag_usacloud_reads_as_a_file():
    """From usacloud 1.22.8's source (tools/gen_commands.py FILE_FLAGS): the path-or-content values,
    the uploads and downloads, over the whole tree."""
    found = {
        (r, s, f.name): f.file for r, s, f in file_flags() if f.name not in ("--format", "--query", "--parameters")
    }
    assert found[("archive", "create", "--source-file")] == "upload"
    assert found[("cdrom", "upload", "--source-file")] == "upload"
    assert found[("archive", "download", "--destination")] == "download"
    assert found[("note", "create", "--content")] == "content"
    assert found[("ssh-key", "create", "--public-key")] == "content"
    assert found[("icon", "create", "--image")] == "content"
    assert found[("server", "boot", "--user-data")] == "content"
    assert found[("auto-scale", "update", "--config")] == "content"
    assert found[("disk", "edit", "--ssh-keys")] == found[("server", "create", "--disk-edit-ssh-keys")] == "content"
    assert found[("vpc-router", "update-standard", "--firewall")] == "content"
    assert found[("web-accelerator", "create-certificate", "--key")] == "content"
    assert found[("server", "ssh", "--key")] == "open"
    assert ("note", "update", "--content") not in found  # read as text, not as a path
    assert ("simple-monitor", "create", "--health-check-expected-data") not in found
    assert len(found) == 114
    every = {(r, s) for r, s, f in file_flags() if f.name == "--parameters"}
    assert len(every) == 276


@pytest.mark.parametrize(("resource", "sub", "flag"), file_flags(), ids=lambda x: getattr(x, "name", x))
def test_a_path_in_proc_is_refused_for_every_file_flag(tree, resource, sub, flag):
    words = f"{resource} {sub} {flag.name} /proc/self/environ"
    found = refusal(tree, words, **EVERYTHING)
    rule = "rest-data" if resource == "rest" and flag.name == "--data" else None
    rule = rule or ("writes-file" if flag.file == "download" else "reads-file")
    assert found is not None and found.rule == rule, found
    assert found.options == ()


@pytest.mark.parametrize(
    "value",
    [
        "/proc/self/cwd/tpl.txt",  # usacloud's directory is the script's; this process's is not
        "/proc/thread-self/cwd/tpl.txt",
        "self/environ",  # a link in the script's directory to /proc/self
        "self/cwd/tpl.txt",
        "keys/../self/environ",
        "/dev/fd/0",
        "/dev/stdin",
        "/sys/class/net/lo/address",
        "/proc/1/environ",
        "/proc/nonexistent/x",  # whether it exists here says nothing about usacloud's view
    ],
)
def test_process_trees_are_refused_however_spelled(tree, value):
    for command in (f"zone list --format {value}", f"note create -y --name n --content {value}"):
        found = refusal(tree, command, **EVERYTHING)
        assert found is not None and found.rule == "reads-file" and "what such a path means" in found.message, command
    assert refusal(tree, f"archive download -y --destination {value} 123", **EVERYTHING).rule == "writes-file"


def test_files_outside_the_scripts_tree_are_refused_and_its_own_files_pass(tree):
    assert refusal(tree, "archive create -y --name a --size 20 --source-file data.raw") is None
    assert refusal(tree, "ssh-key create -y --name k --public-key keys/id.pub", **EVERYTHING) is None
    for value in ("../secret.txt", str(tree / "secret.txt"), "out/secret.txt", "~/secret.txt", "/etc/hostname"):
        found = refusal(tree, f"note create -y --name n --content {value}", **EVERYTHING)
        assert found is not None and found.rule == "reads-file" and "outside the script's directory" in found.message
    # os.Open reads no `~`: `~/secret.txt` is a name in the script's directory, and none is there
    assert refusal(tree, "archive upload -y --source-file ~/secret.txt 123") is None
    # text that names no file is the content itself
    assert refusal(tree, "note create -y --name n --content echo-hello", **EVERYTHING) is None
    assert refusal(tree, "ssh-key create -y --name k --public-key ssh-ed25519-AAAA", **EVERYTHING) is None


def test_the_run_directory_is_never_read(tree):
    (tree / "s" / "run").symlink_to(tree / "run")
    (tree / "run" / "cookie").write_text("x")
    found = refusal(tree, "note create -y --name n --content run/cookie", **EVERYTHING)
    assert found is not None and "the run's own directory" in found.message


def test_a_download_is_written_only_in_the_scripts_tree(tree):
    assert refusal(tree, "archive download -y --destination got.raw 123") is None
    assert refusal(tree, "cdrom download -y --dest keys/new.iso 123") is None
    (tree / "s" / "run-link").symlink_to(tree / "run")
    for value in ("../got.raw", "/tmp/got.raw", "out/got.raw", "run-link/x"):
        found = refusal(tree, f"archive download -y --destination {value} 123")
        assert found is not None and found.rule == "writes-file", value


def test_shell_mode_judges_the_callers_directory_and_the_scripts_tree(tree):
    """A shell-mode call runs in the caller's directory: a relative path is read there, and must
    still lie under the script's own directory."""
    assert refusal(tree, "note create -y --name n --content secret.txt", cwd=".", **EVERYTHING) is not None
    assert refusal(tree, "note create -y --name n --content s/tpl.txt", cwd=".", **EVERYTHING) is None
    assert refusal(tree, "note create -y --name n --content tpl.txt", cwd="s/keys", **EVERYTHING) is None


def test_templates_and_queries_kept_in_files_are_refused_even_in_the_scripts_tree(tree):
    for command in ("zone list --format tpl.txt", "zone list --query tpl.txt", "zone list --fmt keys/../tpl.txt"):
        found = refusal(tree, command)
        assert found is not None and found.rule == "reads-file" and "write the" in found.message, command
    assert refusal(tree, 'zone list --format {{file "/etc/hostname"}}') is not None
    assert refusal(tree, "zone list --format {{.Name}}/{{.ID}}") is None


@pytest.mark.parametrize(
    ("command", "json_text"),
    [
        ("note create -y --parameters", {"Name": "n", "content": "/proc/self/environ"}),
        ("archive create -y --parameters", {"Name": "a", "SizeGB": 20, "SourceFile": "../secret.txt"}),
        ("server create -y --name x --disks", [{"EditDisk": {"SSHKeys": ["/proc/self/environ"]}}]),
        ("server create -y --parameters", {"Name": "x", "Disk": {"EditDisk": {"SSHKeys": ["self/environ"]}}}),
        ("zone list --parameters", {"Format": "/proc/self/cwd/tpl.txt"}),
        ("archive download -y 123 --parameters", {"Destination": "/tmp/x"}),
    ],
)
def test_json_that_sets_a_file_field_is_judged_too(tree, command, json_text):
    inline = refusal(tree, f"{command} {json.dumps(json_text, separators=(',', ':'))}", **EVERYTHING)
    assert inline is not None and inline.rule in ("reads-file", "writes-file"), inline
    (tree / "s" / "p.json").write_text(json.dumps(json_text))
    from_file = refusal(tree, f"{command} p.json", **EVERYTHING)
    assert from_file is not None and from_file.rule == inline.rule, from_file


def test_the_danger_check_never_reads_parameters_through_proc(tree):
    """``--parameters /proc/self/cwd/p.json`` is usacloud's p.json (the script's), not this process's."""
    (tree / "s" / "p.json").write_text('{"Name": "web2", "ForceShutdown": true}')
    found = refusal(tree, "server update -y web --parameters /proc/self/cwd/p.json")
    assert found is not None and found.rule == "reads-file"


def test_resolve_follows_links_and_dotdot_as_the_kernel_does(tree):
    (tree / "s" / "up").symlink_to("keys/..")
    assert resolve("keys/../data.raw", tree / "s").path == Path(tree / "s" / "data.raw")
    assert resolve("out/s/data.raw", tree / "s").path == Path(tree / "s" / "data.raw")
    assert resolve("up/../secret.txt", tree / "s").path == Path(tree / "secret.txt")
    assert resolve("self/cwd", tree / "s").tree == "/proc"
    (tree / "s" / "loop").symlink_to("loop")
    assert resolve("loop/x", tree / "s").loop
    assert resolve("new/file", tree / "s").path == Path(tree / "s" / "new" / "file")


def test_a_home_outside_the_tree_is_outside(tree):
    place = Place(tree / "s", tree / "s", str(tree / "s" / "keys"))
    policy = Policy(cwd=place.cwd, root=place.root, home=place.home, **EVERYTHING)
    assert (
        policy.apply(["usacloud", "ssh-key", "create", "-y", "--name", "k", "--public-key", "~/id.pub"]).refusal is None
    )


# -- fake mode: uploads and downloads dial the FTP host the fake API names --------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "archive create -y --name a --size 20 --source-file data.raw",
        'archive create -y --parameters {"Name":"a","SizeGB":20,"SourceFile":"data.raw"}',
        "archive upload -y --source-file data.raw 123",
        "archive download -y --destination got.raw 123",
        "archive download -y 123",
        "cdrom create -y --name c --size 5 --source-file data.raw",
        "cdrom upload -y --source-file data.raw 123",
        "cdrom download -y 123",
    ],
)
def test_fake_mode_refuses_what_moves_a_file_over_ftp(tree, command):
    found = refusal(tree, command, fake=True, **EVERYTHING)
    assert found is not None and found.rule == "fake-mode" and "FTP" in found.message, found
    assert refusal(tree, command, **EVERYTHING) is None  # the sandbox zone has a real FTP host


def test_fake_mode_lets_an_archive_be_made_without_a_file(tree):
    assert refusal(tree, "archive create -y --name a --size 20", fake=True) is None
    assert refusal(tree, "archive create -y --name a --source-disk-id 123", fake=True) is None
    assert refusal(tree, "archive ftp-open -y 123", fake=True) is None  # an API call only


def test_the_check_runs_where_the_policy_says_not_where_this_process_is(tree, monkeypatch):
    monkeypatch.chdir(tree)
    (tree / "tpl.txt").write_text("x")  # this process's directory has its own tpl.txt
    assert refusal(tree, "zone list --format /proc/self/cwd/tpl.txt") is not None
    assert os.getcwd() == str(tree)
