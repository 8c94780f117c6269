"""The CI recipes in docs/ci/ work as written: each is parsed, and every command of the job that runs
on every push (install, lint, dry-run) is run in order, as the CI would, in a workspace holding a
copy of the examples as ``scripts/``; then the artifacts the recipe keeps must exist.

Substitution: the recipes' install command (``pip install 'pytest-usacloud-sandbox[redis]'``) is
not run. Instead ``pytest`` and ``usacloud-lint`` on PATH are this interpreter running this
checkout, which is what that install puts on PATH; that the built wheel installs and works on its
own is tests/test_package.py's part. The job that runs on main needs the API key from the CI's
secrets: its shape is checked (main only, the key from secrets, reports kept, usacloud pinned to
the version the offline check models), its commands are not run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from built_package import missing, run_process

from pytest_usacloud_sandbox.script.parse import parse_markers
from pytest_usacloud_sandbox.usacloud.commands import USACLOUD_VERSION

try:
    import yaml
except ImportError:  # each test says so (and fails in CI)
    yaml = None

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "docs" / "ci"
INSTALL = "pip install 'pytest-usacloud-sandbox[redis]'"
USACLOUD_URL = f"https://github.com/sacloud/usacloud/releases/download/v{USACLOUD_VERSION}/usacloud_linux-amd64.zip"


def _fails_on_purpose(path: Path) -> bool:
    return any(m.name == "xfail" for m in parse_markers(path.read_text()))


def _workspace(tmp_path: Path, with_failing: bool) -> Path:
    """A repository's workspace: the examples as scripts/ (without those that fail on purpose, unless asked)."""
    ws = tmp_path / ("failing" if with_failing else "clean")
    shutil.copytree(ROOT / "examples", ws / "scripts")
    if not with_failing:
        for path in (ws / "scripts").glob("*.usacloud"):
            if _fails_on_purpose(path):
                path.unlink()
    return ws


def _env(tmp_path: Path, **extra: str) -> dict:
    """PATH with ``pytest`` and ``usacloud-lint`` of this checkout, in place of the install command."""
    bindir = tmp_path / "bin"
    if not bindir.exists():
        bindir.mkdir()
        for name, module in (("pytest", "pytest"), ("usacloud-lint", "pytest_usacloud_sandbox")):
            (bindir / name).write_text(f'#!/bin/sh\nexec {sys.executable} -m {module} "$@"\n')
            (bindir / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GITHUB_", "SAKURACLOUD_", "CI"))}
    env.update(PATH=f"{bindir}:/usr/bin:/bin", PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.update(extra)
    return env


def _run(commands: list[str], cwd: Path, env: dict) -> list[subprocess.CompletedProcess]:
    """Each command under bash as a CI runs a step (-e, pipefail), stopping at the first that fails."""
    done = []
    for command in commands:
        if command.strip() == INSTALL:
            continue  # substituted: see the module docstring
        done.append(run_process(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command], cwd, env))
        if done[-1].returncode != 0:
            break
    return done


def _check_reports(ws: Path, xml_name: str, json_name: str) -> None:
    scripts = sorted(p.name for p in (ws / "scripts").glob("*.usacloud"))
    root = ET.parse(ws / "reports" / xml_name).getroot()  # pytest writes <testsuites><testsuite tests=N>
    assert int(root.find("testsuite").get("tests")) == len(scripts)
    report = json.loads((ws / "reports" / json_name).read_text())
    assert sorted(Path(s["path"]).name for s in report["scripts"]) == scripts
    assert report["run"]["dry_run"] is True


# -- GitHub Actions ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def github():
    if yaml is None:
        missing("PyYAML is not installed (it is in the test extra)")
    doc = yaml.safe_load((RECIPES / "github-actions.yml").read_text())
    return doc, doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as true


def _github_commands(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_github_recipe_checks_every_push_and_runs_the_sandbox_on_main_only(github):
    doc, triggers = github
    assert "push" in triggers and "pull_request" in triggers
    check, sandbox = doc["jobs"]["check"], doc["jobs"]["sandbox"]
    assert "if" not in check
    assert "refs/heads/main" in sandbox["if"] and sandbox["needs"] == "check"
    assert sandbox["env"] == {
        name: f"${{{{ secrets.{name} }}}}" for name in ("SAKURACLOUD_ACCESS_TOKEN", "SAKURACLOUD_ACCESS_TOKEN_SECRET")
    }
    assert not any("${{" in command for command in _github_commands(check)), "the every-push job needs no secret"
    for job in (check, sandbox):
        commands = _github_commands(job)
        assert commands[0] == INSTALL
        pytest_runs = [c for c in commands if c.startswith("pytest ")]
        assert pytest_runs and all("--usacloud-github=on" in c and "--junitxml=reports/" in c for c in pytest_runs)
        uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
        assert [(s["if"], s["with"]["path"]) for s in uploads] == [("always()", "reports/")]
    assert any(c.startswith("usacloud-lint --format=github ") for c in _github_commands(check))
    assert any("--usacloud-dry-run" in c for c in _github_commands(check))
    assert not any("--usacloud-dry-run" in c for c in _github_commands(sandbox))
    assert any(USACLOUD_URL in c for c in _github_commands(sandbox)), "usacloud pinned to the modelled version"


def test_github_recipe_every_push_job_runs_as_written(github, tmp_path):
    doc, _ = github
    ws = _workspace(tmp_path, with_failing=False)
    summary = ws / "step-summary.md"
    env = _env(tmp_path, GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(ws), GITHUB_STEP_SUMMARY=str(summary))
    done = _run(_github_commands(doc["jobs"]["check"]), ws, env)
    assert [d.returncode for d in done] == [0] * len(done) == [0, 0], [d.stdout + d.stderr for d in done]
    assert "::error" not in done[0].stdout + done[1].stdout
    _check_reports(ws, "dry-run.xml", "dry-run.json")
    assert "## usacloud sandbox" in summary.read_text()


def test_github_recipe_lint_step_fails_the_job_with_annotations(github, tmp_path):
    doc, _ = github
    ws = _workspace(tmp_path, with_failing=True)
    env = _env(tmp_path, GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(ws), GITHUB_STEP_SUMMARY=str(ws / "s.md"))
    done = _run(_github_commands(doc["jobs"]["check"]), ws, env)
    assert [d.returncode for d in done] == [1]  # the job stops at the lint
    failing = sorted(p.name for p in (ws / "scripts").glob("*.usacloud") if _fails_on_purpose(p))
    errors = [line for line in done[0].stdout.splitlines() if line.startswith("::error file=scripts/")]
    assert sorted({line.split("file=scripts/")[1].split(",")[0] for line in errors}) == failing


# -- GitLab CI -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gitlab():
    if yaml is None:
        missing("PyYAML is not installed (it is in the test extra)")
    return yaml.safe_load((RECIPES / "gitlab-ci.yml").read_text())


def test_gitlab_recipe_checks_every_pipeline_and_runs_the_sandbox_on_the_default_branch(gitlab):
    check, sandbox = gitlab["usacloud-check"], gitlab["usacloud-sandbox"]
    assert gitlab["stages"] == ["check", "sandbox"] and check["stage"] == "check" and sandbox["stage"] == "sandbox"
    assert "rules" not in check and "only" not in check
    assert sandbox["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    assert sandbox["resource_group"]
    for job, name in ((check, "dry-run"), (sandbox, "sandbox")):
        assert job["script"][0] == INSTALL
        assert job["artifacts"] == {
            "when": "always",
            "paths": ["reports/"],
            "reports": {"junit": f"reports/{name}.xml"},
        }
        assert any(f"--usacloud-report=reports/{name}.json" in c for c in job["script"])
    assert any(c.startswith("usacloud-lint scripts/") for c in check["script"])
    assert any(USACLOUD_URL in c for c in sandbox["script"]), "usacloud pinned to the modelled version"


@pytest.mark.parametrize("with_failing", [False, True])
def test_gitlab_recipe_check_job_runs_as_written(gitlab, tmp_path, with_failing):
    ws = _workspace(tmp_path, with_failing)
    done = _run(gitlab["usacloud-check"]["script"], ws, _env(tmp_path, GITLAB_CI="true"))
    if with_failing:
        assert [d.returncode for d in done] == [1] and "09-typo-fails.usacloud:5:17: unknown-subcommand" in done[
            0
        ].stdout
        return
    assert [d.returncode for d in done] == [0, 0], [d.stdout + d.stderr for d in done]
    _check_reports(ws, "dry-run.xml", "dry-run.json")
