"""The pre-commit hook (.pre-commit-hooks.yaml) as users run it: ``pre-commit try-repo`` installs this
repository in its own environment and runs ``usacloud-lint`` on a repository's ``*.usacloud`` files.

try-repo builds the hook from a git repository's HEAD; on a checkout with uncommitted changes it
commits the changes of tracked files to a shadow clone, but never files git does not track yet. So
the hook repository here is a fresh git repository holding this checkout's files as they are now
(tracked and new), committed: what is tested is the working tree, whatever has been committed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
from built_package import ROOT, copy_checkout, missing, network_trouble, run_process

HOOKS = ROOT / ".pre-commit-hooks.yaml"
GIT_ID = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def _env(tmp_path) -> dict:
    """No PYTHONPATH: the hook must run from what pre-commit installed, never from this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "PYTEST_", "PRE_COMMIT", "GIT_"))}
    return {**env, **GIT_ID, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}


def _git_repo(path, env) -> None:
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "files"]):
        subprocess.run(["git", *argv], cwd=path, env=env, check=True, capture_output=True)


def test_the_hook_is_declared_for_usacloud_scripts():
    pre_commit = pytest.importorskip("pre_commit.clientlib", reason="pre-commit is not installed")
    (hook,) = pre_commit.load_manifest(str(HOOKS))  # pre-commit's own validation of the file
    assert (hook["id"], hook["language"], hook["entry"]) == ("usacloud-lint", "python", "usacloud-lint")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert hook["entry"] in scripts
    files = re.compile(hook["files"])
    assert [bool(files.search(p)) for p in ("a.usacloud", "ops/b.usacloud", "a.sh", "a.usacloud.bak")] == [
        True,
        True,
        False,
        False,
    ]


def test_try_repo_fails_the_bad_script_and_passes_the_good_one(tmp_path):
    env = _env(tmp_path)
    probe = subprocess.run(
        [sys.executable, "-m", "pre_commit", "--version"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        missing("pre-commit is not installed (it is in the test extra)")
    if shutil.which("git") is None:
        missing("git is not installed")
    hook_repo = copy_checkout(tmp_path / "hook-repo")
    _git_repo(hook_repo, env)
    target = tmp_path / "target"
    (target / "ops").mkdir(parents=True)
    (target / "good.usacloud").write_text("usacloud zone list\n")
    (target / "ops" / "bad.usacloud").write_text("usacloud zone list\nusacloud server lsit --zone tk1v\n")
    (target / "notes.sh").write_text("usacloud region lsit\n")  # not a *.usacloud file: not the hook's
    _git_repo(target, env)
    try_repo = [sys.executable, "-m", "pre_commit", "try-repo", hook_repo, "usacloud-lint", "--all-files"]
    done = run_process(try_repo, target, env, timeout=600)
    output = done.stdout + done.stderr
    if done.returncode not in (0, 1) and network_trouble(output):
        missing(f"pre-commit could not install the hook (no package index): {output.strip().splitlines()[-1]}")
    assert done.returncode == 1, output
    assert re.search(r"^usacloud-lint\.+Failed$", done.stdout, re.M), output
    problems = [line for line in done.stdout.splitlines() if re.match(r"^\S+:\d+:\d+: ", line)]
    assert problems == [
        "ops/bad.usacloud:2:17: unknown-subcommand: `lsit` is not a subcommand of `server`; did you mean list? "
        "(fix: list)"
    ], output
