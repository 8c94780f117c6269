"""bash's own verdict on a script's syntax: ``bash -n FILE``, with bash's message and line.

A script bash cannot parse fails before anything runs, in every mode: shell mode would hand it to
bash, and commands mode must never run a command from a script bash would refuse. bash is the
judge (the plugin's own reader is not), and its words are reported as it prints them.

No pytest here: the plugin's items and the standalone lint command call :func:`bash_syntax_problem`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: bash -n reads the whole file without running anything: a few ms, unless the file is pathological.
DEFAULT_TIMEOUT = 10.0
#: bash parses a script one command at a time as it runs it, so a ``shopt -s extglob`` line changes
#: how the lines after it parse; ``bash -n`` runs no ``shopt``. A script that mentions extglob is
#: checked with it on (a check with it off would refuse what bash runs).
_EXTGLOB = b"extglob"


@dataclass(frozen=True)
class SyntaxProblem:
    """Why bash refuses a script: its message and the 1-based line it names (0: it named none)."""

    line: int
    message: str  # bash's words, e.g. "syntax error near unexpected token `)'"
    source: str = ""  # the offending text as bash echoes it on its next line, when it does

    def describe(self) -> str:
        return f"bash cannot parse the script: {self.message}" + (f": {self.source}" if self.source else "")


class SyntaxCheckUnavailable(Exception):
    """bash could not give a verdict (not installed, or it ran out of time): the caller decides."""


def find_bash(path_env: str | None = None) -> str | None:
    return shutil.which("bash", path=path_env if path_env is not None else os.environ.get("PATH", os.defpath))


def bash_syntax_problem(
    path: str | os.PathLike, *, bash: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> SyntaxProblem | None:
    """None when ``bash -n`` accepts the file, else bash's first complaint as a :class:`SyntaxProblem`.

    bash runs with an empty environment (no ``BASH_ENV``, nothing of the caller's, C messages) and
    nothing on stdin. Raises :class:`SyntaxCheckUnavailable` when there is no bash or it takes
    longer than ``timeout`` seconds."""
    bash = bash or find_bash()
    if bash is None:
        raise SyntaxCheckUnavailable("bash was not found on PATH")
    name = os.fspath(path)
    options = ["-O", "extglob"] if _mentions_extglob(name) else []
    try:
        done = subprocess.run(
            [bash, *options, "-n", name],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={"PATH": os.defpath, "LC_ALL": "C"},
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SyntaxCheckUnavailable(f"bash -n took longer than {timeout:g} s") from None
    except OSError as exc:
        raise SyntaxCheckUnavailable(f"bash could not be started: {exc.strerror or exc}") from None
    if done.returncode == 0:
        return None
    return parse_bash_errors(done.stderr.decode("utf-8", errors="replace"), name)


def _mentions_extglob(name: str) -> bool:
    try:
        return _EXTGLOB in Path(name).read_bytes()
    except OSError:
        return False


def parse_bash_errors(stderr: str, name: str) -> SyntaxProblem:
    """bash's first ``NAME: line N: message`` (and the source line it echoes after it) from its stderr."""
    found = re.findall(rf"(?m)^{re.escape(name)}: line (\d+): (.*)$", stderr)
    if not found:
        first = next((line.strip() for line in stderr.splitlines() if line.strip()), "bash -n failed")
        return SyntaxProblem(0, first[:300])
    line, message = found[0]
    source = ""
    if len(found) > 1 and found[1][0] == line and found[1][1].startswith("`"):
        source = found[1][1].strip()
    return SyntaxProblem(int(line), message.strip()[:300], source[:300])
