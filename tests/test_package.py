"""The built package works on its own: the wheel holds every file of the package and declares the
plugin and the lint command; installed in a fresh virtual environment, outside the checkout, it runs
the examples' dry-run, the lint and a shell-mode script (the bash prologue, the shim and the broker
come from the wheel). Metadata: the version is single-sourced and the changelog names it."""

from __future__ import annotations

import email
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from built_package import ROOT, checkout_files, missing, run_process, shared_build
from standin_tools import STANDIN_BIN, read_log, standin_env

import pytest_usacloud_sandbox

VERSION = pytest_usacloud_sandbox.__version__


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return shared_build(tmp_path_factory)


def _wheel_metadata(wheel: Path) -> tuple[list[str], email.message.Message, str]:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = zf.read(info.replace("METADATA", "entry_points.txt")).decode()
        return names, email.message_from_bytes(zf.read(info)), entry_points


def test_the_version_is_single_sourced_and_the_changelog_names_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "pytest_usacloud_sandbox.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?", VERSION)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(r"^## (\S+)", changelog, re.M).group(1) == VERSION, "the newest changelog entry"
    assert project["project"]["scripts"] == {"usacloud-lint": "pytest_usacloud_sandbox.lint.cli:main"}


def test_the_wheel_holds_every_file_of_the_package_and_declares_its_entry_points(built):
    names, meta, entry_points = _wheel_metadata(built.wheel)
    package = {n for n in checkout_files() if n.startswith("pytest_usacloud_sandbox/")}
    assert package <= set(names), f"missing from the wheel: {sorted(package - set(names))}"
    assert {"pytest_usacloud_sandbox/usacloud/_command_data.py", "pytest_usacloud_sandbox/run/shim.py"} <= package
    outside = {n.split("/")[0] for n in names} - {
        "pytest_usacloud_sandbox",
        f"pytest_usacloud_sandbox-{VERSION}.dist-info",
    }
    assert outside == set(), "the wheel installs nothing beside the package"
    assert meta["Version"] == VERSION
    classifiers = meta.get_all("Classifier")
    assert {"Framework :: Pytest", "Operating System :: POSIX :: Linux"} <= set(classifiers)
    assert meta.get_all("Project-URL") and meta["Requires-Python"] == ">=3.11"
    assert "[pytest11]\nusacloud_sandbox = pytest_usacloud_sandbox.plugin" in entry_points
    assert "[console_scripts]\nusacloud-lint = pytest_usacloud_sandbox.lint.cli:main" in entry_points


def test_the_sdist_holds_what_it_takes_to_build_and_test(built):
    with tarfile.open(built.sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    wanted = {n for n in checkout_files() if n.startswith(("pytest_usacloud_sandbox/", "tests/", "examples/", "docs/"))}
    wanted |= {"pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", ".pre-commit-hooks.yaml", "conftest.py"}
    assert wanted <= names, f"missing from the sdist: {sorted(wanted - names)}"


def test_twine_accepts_both(built):
    done = run_process([sys.executable, "-m", "twine", "check", "--strict", built.sdist, built.wheel], ROOT, None)
    if "No module named twine" in done.stderr:
        missing("twine is not installed (it is in the test extra)")
    assert done.returncode == 0, done.stdout + done.stderr


def _venv_run(built, argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return run_process(argv, cwd, built.env(**env))


def test_the_installed_wheel_runs_the_dry_run_and_the_lint_outside_the_checkout(built, tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    where = _venv_run(
        built, [str(built.bin("python")), "-c", "import pytest_usacloud_sandbox as m; print(m.__file__)"], tmp_path
    )
    assert where.stdout.startswith(str(built.venv)), where.stdout + where.stderr
    report = tmp_path / "report.json"
    dry = _venv_run(  # autoload on: the pytest11 entry point registers the plugin
        built,
        [
            str(built.bin("pytest")),
            "--usacloud-scripts=examples",
            "--usacloud-dry-run",
            "-p",
            "no:cacheprovider",
            f"--usacloud-report={report}",
        ],
        tmp_path,
    )
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert re.search(r"7 passed, 1 skipped, 3 xfailed, .*2 partly run", dry.stdout), dry.stdout
    doc = json.loads(report.read_text())
    assert doc["run"]["plugin_version"] == VERSION
    failing = sorted(Path(s["path"]).name for s in doc["scripts"] if s["status"] == "failed")
    lint = _venv_run(built, [str(built.bin("usacloud-lint")), "examples/"], tmp_path)
    assert lint.returncode == 1, lint.stdout + lint.stderr
    errors = {line.split(":")[0] for line in lint.stdout.splitlines() if ": warning: " not in line}
    assert sorted(Path(p).name for p in errors) == failing and len(failing) == 3
    version = _venv_run(built, [str(built.bin("python")), "-m", "pytest_usacloud_sandbox", "--version"], tmp_path)
    assert version.stdout.strip() == f"usacloud-lint (pytest-usacloud-sandbox {VERSION})"


def test_the_installed_wheel_runs_shell_mode_with_its_own_prologue_and_shim(built, tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "capture.usacloud").write_text(
        "#!/bin/bash\n# pytest.mark.usacloud_shell\nset -euo pipefail\n"
        'ID=$(usacloud switch create -y --name sw-wheel -q)\nusacloud switch read "$ID" -q\n'
    )
    env = standin_env(tmp_path, XDG_CACHE_HOME=str(tmp_path / "cache"))
    venv_env = built.env()
    env = {k: v for k, v in env.items() if not k.startswith(("PYTHON", "PYTEST_"))}
    env["PATH"] = venv_env["PATH"] + ":" + env["PATH"]  # the venv's pytest first; the stand-in's interpreter after
    argv = [
        built.bin("pytest"),
        "--usacloud-scripts=scripts",
        f"--usacloud-bin={STANDIN_BIN}",
        "--usacloud-rate=unlimited",
    ]
    done = run_process([*argv, "-p", "no:cacheprovider"], tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    calls = [c["argv"][:2] for c in read_log(tmp_path / "usacloud.jsonl") if c["argv"][:1] == ["switch"]]
    # the script's calls, then the run's teardown of what it created (listed by its tag, deleted)
    assert calls == [["switch", "create"], ["switch", "read"], ["switch", "list"], ["switch", "delete"]]
