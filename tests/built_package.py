"""The package as users get it, for the tests that need it built or installed.

* :func:`copy_checkout`: this checkout's files as they are now (tracked and new, not ignored) in a
  fresh directory, for builds and for a git repository made of them (pre-commit's ``try-repo``).
* :func:`shared_build`: the sdist and wheel built from that copy (``python -m build``) and the wheel
  installed in a fresh virtual environment outside the checkout (its own site-packages only: no
  PYTHONPATH, no editable install). Done once per test run, whatever the number of xdist workers
  (under a lock in pytest's temporary directory shared by them).
* :func:`missing`: a tool these tests need (build, twine, pre-commit, PyYAML) is not installed, or
  the package index cannot be reached: the test skips with the reason, or fails in CI
  (``USACLOUD_TEST_REQUIRE_PACKAGING=1``, set by .ci/run), so packaging never goes untested silently.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: what pip says when it cannot reach an index (a machine without network), as opposed to a bad package
NETWORK_TROUBLE = (
    "No matching distribution found",
    "Could not find a version that satisfies",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
)
REQUIRED = os.environ.get("USACLOUD_TEST_REQUIRE_PACKAGING") == "1"
_IGNORED_DIRS = {".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".venv", "build", "dist", ".benchmarks"}


def missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (required in CI)", pytrace=False)
    pytest.skip(reason)


def network_trouble(output: str) -> bool:
    return any(sign in output for sign in NETWORK_TROUBLE)


def run_process(argv, cwd: Path, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    """A command run to its end, its output captured as text (the exit status is the caller's to judge)."""
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def checkout_files() -> list[str]:
    """The checkout's files relative to its root: git's tracked and untracked-but-not-ignored files,
    or (an unpacked sdist, no git) every file outside caches and build output."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        return sorted(name for name in out.decode().split("\0") if name and (ROOT / name).is_file())
    files = []
    for here, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in _IGNORED_DIRS and not d.endswith(".egg-info")]
        files += [os.path.relpath(os.path.join(here, n), ROOT) for n in names]
    return sorted(files)


def copy_checkout(dest: Path) -> Path:
    for name in checkout_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return dest


@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path
    venv: Path

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def env(self, **extra: str) -> dict:
        """An environment in which only the venv's python sees the package: no PYTHONPATH, no pytest
        variables, the venv's bin first on PATH."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST_", "VIRTUAL_ENV"))}
        env.update(PATH=f"{self.venv / 'bin'}:/usr/bin:/bin", VIRTUAL_ENV=str(self.venv), **extra)
        return env


def _build(base: Path) -> Built:
    probe = subprocess.run([sys.executable, "-m", "build", "--version"], cwd=base, capture_output=True, check=False)
    if probe.returncode != 0:
        raise _Skip("`build` is not installed (it is in the test extra: pip install -e '.[test]')")
    src = copy_checkout(base / "src")
    dist = base / "dist"
    _step([sys.executable, "-m", "build", "--outdir", str(dist), str(src)], "python -m build", cwd=base)
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    venv = base / "venv"
    _step([sys.executable, "-m", "venv", str(venv)], "python -m venv", cwd=base)
    _step([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], "pip install (wheel)", cwd=base)
    return Built(sdist, wheel, venv)


class _Skip(Exception):
    pass


def _step(argv: list[str], what: str, cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "PYTEST_"))}
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-4000:]
        if network_trouble(output):
            raise _Skip(f"{what}: the package index cannot be reached: {output.strip().splitlines()[-1]}")
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{output}")


def shared_build(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The build of this test run (made by the first test that asks, on whichever worker)."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one directory for every worker
    outcome = shared / "built-package.json"
    with FileLock(str(shared / "built-package.lock")):
        if not outcome.exists():
            where = shared / "built-package"
            shutil.rmtree(where, ignore_errors=True)
            where.mkdir()
            try:
                built = _build(where)
                result = {"sdist": str(built.sdist), "wheel": str(built.wheel), "venv": str(built.venv)}
            except _Skip as exc:
                result = {"skip": str(exc)}
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
                result = {"error": str(exc)}
            outcome.write_text(json.dumps(result))
    result = json.loads(outcome.read_text())
    if "skip" in result:
        missing(result["skip"])
    if "error" in result:
        pytest.fail(result["error"], pytrace=False)
    return Built(Path(result["sdist"]), Path(result["wheel"]), Path(result["venv"]))
