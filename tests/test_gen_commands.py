"""tools/gen_commands.py: one source for the command tree (usacloud's own tree file)."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from standin_tools import shared_file

from pytest_usacloud_sandbox.usacloud import _command_data, commands

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO / "tools" / "gen_commands.py"


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("gen_commands", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tree() -> dict:
    return json.loads(shared_file("usacloud-tree.json").read_text(encoding="utf-8"))


def test_the_checked_in_table_is_what_the_tree_generates(tmp_path):
    out = tmp_path / "_command_data.py"
    proc = subprocess.run(
        [sys.executable, str(TOOL), str(shared_file("usacloud-tree.json")), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "usacloud 1.22.8" in proc.stdout
    checked_in = Path(_command_data.__file__).read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == checked_in, "stale: run python tools/gen_commands.py TREE.json"


def test_the_table_records_the_version_and_counts_it_describes(tree):
    assert commands.USACLOUD_VERSION == tree["usacloud_version"] == "1.22.8"
    assert _command_data.COUNTS == {"resources": 50, "subcommands": 286, "flags": 3324}
    assert "usacloud 1.22.8" in _command_data.__doc__ and "usacloud-tree.json" in _command_data.__doc__


def test_required_means_required_without_a_default(gen, tree):
    data = gen.build(tree)
    server = next(r for r in data["resources"] if r["name"] == "server")
    create = next(s for s in server["subcommands"] if s["name"] == "create")
    required = [row[0] for row in create["flags"] if row[4]]
    assert required == ["--name", "--zone"]  # CPU, Memory, Commitment... get defaults in code


def test_what_the_fake_driver_does_not_fake_comes_from_the_platform_and_the_iam_callers(gen, tree):
    """The tree's `platform` (iaas, webaccel, '' for config and rest) is carried into the table, and
    every subcommand says which real API it reaches in fake mode: every web-accelerator one (another
    client), `rest`, and the iaas commands that look the account up in IAM (bill, coupon)."""
    data = gen.build(tree)
    platforms = {r["name"]: r["platform"] for r in data["resources"]}
    assert {n: p for n, p in platforms.items() if p != "iaas"} == {
        "config": "",
        "rest": "",
        "web-accelerator": "webaccel",
    }
    unfaked = {
        (r["name"], s["name"]): s["unfaked"] for r in data["resources"] for s in r["subcommands"] if s["unfaked"]
    }
    webaccel = next(r for r in data["resources"] if r["name"] == "web-accelerator")["subcommands"]
    assert unfaked == {
        **{("web-accelerator", s["name"]): "webaccel" for s in webaccel},
        ("rest", "request"): "rest",
        ("bill", "list"): "iam",
        ("bill", "csv"): "iam",
        ("coupon", "list"): "iam",
        **{(r, s): "ftp" for r in ("archive", "cdrom") for s in ("upload", "download")},
        ("cdrom", "create"): "ftp",  # `archive create` moves a file only with --source-file: its flag says so
    }
    bad = copy.deepcopy(tree)
    bad["resources"]["zone"]["platform"] = ""  # a resource with no API client of its own: classify it
    with pytest.raises(gen.TreeError, match="zone list"):
        gen.build(bad)


def test_an_unclassified_subcommand_stops_the_generator(gen, tree):
    bad = copy.deepcopy(tree)
    bad["resources"]["server"]["subcommands"]["frobnicate"] = bad["resources"]["server"]["subcommands"]["list"]
    with pytest.raises(gen.TreeError, match="server frobnicate"):
        gen.build(bad)


def test_allowed_values_cut_short_are_completed_or_refused(gen):
    assert gen.options_of("x", ["ubuntu", "debian", "..."])[-1] == "kusanagi"
    assert gen.options_of("x", ["shared", "disconnected", "(switch-id)"]) is None  # an open set
    assert gen.options_of("x", None) is None
    with pytest.raises(gen.TreeError, match="cut short"):
        gen.options_of("x", ["a", "b", "..."])


def test_bad_input_is_a_message_not_a_traceback(tmp_path):
    broken = tmp_path / "tree.json"
    broken.write_text("{}")
    proc = subprocess.run(
        [sys.executable, str(TOOL), str(broken), str(tmp_path / "out.py")], capture_output=True, text=True
    )
    assert proc.returncode == 1 and proc.stderr.startswith("gen_commands: ") and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage" in proc.stderr


def test_nothing_reads_the_old_markdown_tree():
    sources = [
        *REPO.glob("pytest_usacloud_sandbox/**/*.py"),
        *REPO.glob("tools/*.py"),
        REPO / "tests/standin/usacloud_standin.py",
    ]
    assert sources and not [p for p in sources if "usacloud-commands.md" in p.read_text(encoding="utf-8")]
