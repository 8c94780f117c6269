"""The real-usacloud tier's harness: the real binary, and an inner pytest run with it in a network
namespace with no network (``unshare -n``), with dummy keys. The fixtures ``real_bin`` and ``real``
(tests/conftest.py) give it to the tier's test modules (``test_real_*.py``).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import netns
import pytest

from conftest import INNER_PLUGINS

TOKEN, SECRET = "dummy-token-7c1e9a", "dummy-secret-4b2d8f"
BASIC = base64.b64encode(f"{TOKEN}:{SECRET}".encode()).decode()
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: usacloud's own retries (503, 423, a dead endpoint), kept short: 2 retries, 1 s apart
QUICK_RETRIES = {"SAKURACLOUD_RETRY_MAX": "2", "SAKURACLOUD_RETRY_WAIT_MIN": "1", "SAKURACLOUD_RETRY_WAIT_MAX": "1"}
_CLEARED = ("SAKURACLOUD_", "SAKURA_", "USACLOUD_", "STANDIN_")


def real_binary() -> str:
    """The real usacloud 1.22.x (``USACLOUD_REAL_BIN``), or a skip saying why the tier cannot run here."""
    path = os.environ.get("USACLOUD_REAL_BIN")
    if not path:
        pytest.skip("USACLOUD_REAL_BIN is not set: the real-usacloud tier needs a real usacloud 1.22.x binary")
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"USACLOUD_REAL_BIN={path} is not an executable file")
    reason = netns.unavailable()
    if reason:
        pytest.skip(f"the real usacloud runs only in a network namespace with no network: {reason}")
    done = netns.run([path, "version"], {"PATH": os.defpath, "USACLOUD_NO_VERSION_CHECK": "1"}, timeout=60)
    version = done.stdout.split()[0] if done.stdout.split() else ""
    if done.returncode != 0 or not version.startswith("1.22."):
        pytest.skip(f"USACLOUD_REAL_BIN={path} is not usacloud 1.22.x: {done.stdout.strip() or done.stderr.strip()}")
    return str(Path(path).absolute())


@dataclass
class Outcome:
    """One inner pytest run: its exit code, output, JSON report, and the loopback API's requests."""

    ret: int
    stdout: str
    stderr: str
    report: dict | None
    requests: list[dict]

    @property
    def text(self) -> str:
        return self.stdout + self.stderr

    def scripts(self) -> dict[str, dict]:
        return {Path(s["path"]).stem: s for s in (self.report or {}).get("scripts", ())}

    def script(self, name: str) -> dict:
        return self.scripts()[name]


class RealRun:
    """Scripts in a fresh directory, run by an inner pytest with the real usacloud in a namespace."""

    def __init__(self, tmp_path: Path, binary: str) -> None:
        self.tmp = tmp_path
        self.binary = binary
        self.dir = tmp_path / "scripts"
        self.dir.mkdir()
        self.home = tmp_path / "home"
        self.home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED)}
        env.update(
            HOME=str(self.home),
            XDG_CACHE_HOME=str(tmp_path / "cache"),
            PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
            USACLOUD_NO_VERSION_CHECK="1",
            SAKURACLOUD_ACCESS_TOKEN=TOKEN,
            SAKURACLOUD_ACCESS_TOKEN_SECRET=SECRET,
        )
        self.env = env

    def script(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def run(
        self,
        *args: str,
        api: list[dict] | None = None,
        seed: dict | None = None,
        scripts: Path | None = None,
        timeout=600,
    ) -> Outcome:
        """The inner pytest; ``api``: the loopback API's rules (None: no API in the namespace); ``seed``:
        the resources it has before the run."""
        report = self.tmp / "report.json"
        report.unlink(missing_ok=True)
        log = self.tmp / "api.jsonl"
        log.unlink(missing_ok=True)
        argv = [
            sys.executable,
            "-m",
            "pytest",
            *INNER_PLUGINS,
            "-p",
            "no:cacheprovider",
            f"--rootdir={self.tmp}",
            f"--usacloud-scripts={scripts or self.dir}",
            f"--usacloud-bin={self.binary}",
            "--usacloud-rate=unlimited",
            f"--usacloud-report={report}",
            "-rA",
            *args,
        ]
        config = (
            None if api is None else {"token": TOKEN, "secret": SECRET, "rules": api, "log": str(log), "seed": seed}
        )
        done = netns.run(argv, self.env, api=config, cwd=self.tmp, timeout=timeout)
        doc = json.loads(report.read_text()) if report.exists() else None
        requests = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return Outcome(done.returncode, done.stdout, done.stderr, doc, requests)


#: the two back ends: usacloud's fake driver, or the loopback API (no rules)


SHELL = "# pytest.mark.usacloud_shell\n"


def commands_of(outcome: Outcome, name: str) -> list[dict]:
    return outcome.script(name)["commands"]
