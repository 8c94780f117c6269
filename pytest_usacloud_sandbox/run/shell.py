"""Shell mode: run a whole script under bash, every usacloud call it makes sandboxed, limited, recorded.

bash runs the script in its own process group, with the run's environment minus the API key; through
``BASH_ENV`` a prologue (:data:`PROLOGUE`) defines a ``usacloud`` function that hands each call to
this script's broker (:mod:`broker`), which runs usacloud itself. :func:`judge` turns bash's result and
the calls' records into the script's outcome. A dry-run never starts bash (commands mode checks it).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from ..record.script import ScriptRecord
from ..record.vocabulary import CommandStatus, ResultClass, ScriptOutcome
from ..report.reprs import OUTPUT_LINES, command_list, details, header
from ..script.parse import ParsedScript
from ..usacloud.mask import SECRET_ENV, Masker
from . import protocol, runner
from .broker import Broker
from .execute import Engine, fake_limit_reason
from .shim import ENV_PREFIX, LINE_ENV

MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes
STDOUT_LINES = 10  # of bash's stdout in a failure (its stderr gets reprs.OUTPUT_LINES)
#: the classes of an answer the script may test for (`if ! usacloud switch read X; then ... create`):
#: the API said no; refusals, a bad key, limits, timeouts and cancellations are never the script's answer
TESTABLE_CLASSES = frozenset({ResultClass.NOT_FOUND, ResultClass.CONFLICT, ResultClass.API_ERROR, ResultClass.ERROR})

# The prologue: `set -T` and a DEBUG trap store $LINENO in the exported line variable before every
# command of the script itself (its functions, subshells and substitutions too; a file it sources gets
# the line of the `source`), and put the bin directory with the `usacloud` launcher (for `command`,
# `env`, `xargs usacloud`) back in front of PATH. A script with its own DEBUG trap loses the lines;
# `set -x` shows the trap's two commands. The trap line ends in a backslash-newline: a continuation
# inside the Python literal (bash sees one line).
PROLOGUE = """\
# pytest-usacloud-sandbox shell mode: read through BASH_ENV before the script.
unset BASH_ENV
export {line}=0
set -T
declare -r USACLOUD_SANDBOX_BIN={bindir}
trap '[[ ${{BASH_SOURCE[0]-}} != "$0" ]] || {{ {line}=$LINENO; \
[[ $PATH == "$USACLOUD_SANDBOX_BIN":* ]] || PATH=$USACLOUD_SANDBOX_BIN:$PATH; }}' DEBUG
. {client}
export -f usacloud
"""
LAUNCHER = """\
#!{bash}
# pytest-usacloud-sandbox shell mode: the usacloud on PATH (command/env/xargs usacloud).
. {client}
usacloud "$@"
"""


@dataclass(frozen=True)
class BashOutput:
    """What a failed script's bash printed, for its failure text (masked, only the lines shown)."""

    exit_code: int | None
    stdout: str
    stderr: str


BASH_OUTPUT = pytest.StashKey[BashOutput]()  # on the item: bash's output of its last failed run


def run_item(item, engine: Engine, parsed: ParsedScript, record: ScriptRecord) -> None:
    """Run the item's script in shell mode (the item asked for it: the mode, or its marker)."""
    output = run_shell_script(engine, Path(item.path), parsed, record)
    if output is not None:
        item.stash[BASH_OUTPUT] = output


def run_shell_script(engine: Engine, path: Path, parsed: ParsedScript, record: ScriptRecord) -> BashOutput | None:
    """Run the script under bash; fills ``record``. Returns bash's output if the script failed."""
    record.mode, record.skipped_lines = "shell", 0
    masker = Masker.from_sources(engine.base_env, (w for c in parsed.commands for w in c.words))
    bash = shutil.which("bash", path=engine.base_env.get("PATH", os.defpath))
    if bash is None:
        record.status, record.cls = ScriptOutcome.FAILED, ResultClass.MISSING_BINARY
        record.message = "shell mode needs bash, and bash was not found on PATH"
        return None
    shell_dir = engine.run_dir / "shell"
    shell_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="s-", dir=shell_dir))
    sock_dir = (
        work if len(str(work / "broker.sock")) <= MAX_SOCKET_PATH else Path(tempfile.mkdtemp(prefix="usb-", dir="/tmp"))
    )
    base = engine.env_for(record.nodeid)  # the run's environment for this script: usacloud's, pins included
    env = {k: v for k, v in base.items() if k not in SECRET_ENV and not k.startswith(ENV_PREFIX)}
    if engine.cleanup is not None:  # USACLOUD_SANDBOX_RUN_ID and the script's id, for unique names
        env.update(engine.cleanup.script_env(record.nodeid))
    socket_path = str(sock_dir / "broker.sock")
    text_at = partial(_text_at, parsed)
    broker = Broker(engine, masker, base, env, socket_path, text_at, record.nodeid, path.absolute().parent)
    env[LINE_ENV] = "0"
    try:
        broker.start()
        env["PATH"] = f"{work / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}"
        env["BASH_ENV"] = str(write_client_files(work, bash, broker))
        record.start = time.time()
        result = runner.run_command(  # the kernel's parent-death signal too: once per script is cheap
            [bash, str(path)],
            env,
            engine.settings.script_timeout,
            engine.should_stop,
            cwd=str(path.parent),  # as in commands mode: relative files are the script's neighbours
            children=engine.children,
            die_with_parent=True,
            tagged=True,  # what the script starts, in any session, dies with it (the watchdog's tag)
            busy=broker.busy,
            on_start=broker.serve_session,  # calls of background jobs that outlive bash finish, as without the sandbox
        )
    finally:
        engine.children.kill_tagged()  # what it left running: a job in a session of its own
        record.commands = broker.close()
        record.end = time.time()
        shutil.rmtree(work, ignore_errors=True)
        if sock_dir != work:
            shutil.rmtree(sock_dir, ignore_errors=True)
        if engine.publish is not None:  # throttled: the script's record brings its counts with it
            engine.publish(engine.stats, False)
    tested = [t and _tested_at(parsed, c.line) for t, c in zip(broker.tested, record.commands, strict=False)]
    judge(record, result, broker.exits, bool(engine.stop()), engine.settings.script_timeout, path, tested)
    if record.status != ScriptOutcome.FAILED:
        return None
    seen = broker.seen
    return BashOutput(
        result.exit_code, _last(seen.text(result.stdout), STDOUT_LINES), _last(seen.text(result.stderr), OUTPUT_LINES)
    )


def judge(
    record: ScriptRecord,
    result: runner.RunResult,
    exits: list[int],
    stopped: bool,
    script_timeout: float,
    path: Path,
    tested: list[bool] | None = None,
) -> None:
    """Turn bash's result and the calls' records into the script's status, class, line and message.

    It fails when bash exits non-zero (class ``script-exit``, or the failing call's class when the
    script stopped right there, as with ``set -e``), when a call failed and the script went on, or at
    the whole-script timeout. A call cancelled while the run was not stopped (the script killed it:
    ``timeout``, ``kill``) counts as failed. A call that met a limit of fake mode skips it, unless a
    call failed first. A call whose status bash tested (``tested``: see :func:`_tested_at`) and that
    failed with an answer of the API (:data:`TESTABLE_CLASSES`) is the script's business."""
    calls, tested = record.commands, tested or []
    failed = [
        i
        for i, c in enumerate(calls)
        if (c.failed or (not stopped and c.status == CommandStatus.CANCELLED))
        and not (i < len(tested) and tested[i] and c.status == CommandStatus.FAILED and c.cls in TESTABLE_CLASSES)
    ]
    limit = next((i for i, c in enumerate(calls) if c.status == CommandStatus.UNSUPPORTED), None)
    bash_line, bash_error = _bash_error(result.stderr, path)
    if result.launch_error is not None:
        record.status, record.cls = ScriptOutcome.FAILED, ResultClass.MISSING_BINARY
        record.message = f"bash could not be started: {result.launch_error}"
    elif result.cancelled or (stopped and any(c.status == CommandStatus.CANCELLED for c in calls)):
        record.status = ScriptOutcome.CANCELLED
    elif limit is not None and not (failed and failed[0] < limit):
        # fake mode could not do what the script asked: what bash did next says nothing of the script
        cmd = calls[limit]
        record.status, record.cls, record.line = ScriptOutcome.SKIPPED, ResultClass.FAKE_LIMIT, cmd.line
        record.message = fake_limit_reason(cmd)
    elif result.timed_out:
        record.status, record.cls = ScriptOutcome.FAILED, ResultClass.TIMEOUT
        record.line = calls[-1].line if calls and calls[-1].status == CommandStatus.CANCELLED else bash_line
        record.message = (
            f"the script ran longer than --usacloud-script-timeout ({script_timeout:g}s); "
            "bash and everything it started were terminated"
        )
    elif result.exit_code != 0:
        record.status = ScriptOutcome.FAILED
        last = failed[-1] if failed else None
        if last is not None and last == len(calls) - 1 and exits[last] == result.exit_code:
            cmd = calls[last]  # the script stopped at this call (set -e, or `|| exit $?`)
            record.cls, record.line = cmd.cls, cmd.line
            record.message = f"{cmd.message or cmd.status} (the script stopped there: bash exited {result.exit_code})"
        else:
            record.cls, record.line = ResultClass.SCRIPT_EXIT, bash_line
            record.message = _bash_exit(result) + (f": {bash_error}" if bash_error else "")
            if last is not None:
                cmd = calls[last]
                record.line = record.line or cmd.line
                record.message += f"; a usacloud call had failed before, on line {cmd.line} ({cmd.cls})"
    elif failed:
        cmd = calls[failed[0]]
        record.status, record.cls, record.line = ScriptOutcome.FAILED, cmd.cls, cmd.line
        what = "was cancelled" if cmd.status == CommandStatus.CANCELLED else "failed"
        record.message = f"a usacloud call {what} and the script went on: {cmd.message or cmd.status}"


def failure_text(record: ScriptRecord, relpath: str, bash: BashOutput | None = None) -> str:
    where = f"{relpath}:{record.line}" if record.line else relpath
    lines = header(record.cls, record.message, where)
    if any(c.failed for c in record.commands):
        lines += details(record)  # the failing call, then all calls
    elif record.commands:
        lines += ["  commands:", *command_list(record, indent="    ")]
    else:
        lines.append("  no usacloud call was made")
    if bash is not None:
        at = lines.index("  commands:") if "  commands:" in lines else len(lines)
        extra = [f"  shell mode: {_bash_exit_code(bash.exit_code)}"]
        for name, text in (("bash stderr", bash.stderr), ("bash stdout", bash.stdout)):
            if text.strip():
                tail = text.splitlines()
                extra.append(f"  --- {name} (last {len(tail)} lines) ---")
                extra.extend("  " + line for line in tail)
        lines[at:at] = extra
    return "\n".join(lines)


def write_client_files(work: Path, bash: str, broker: Broker) -> Path:
    """The client function, the PATH launcher (work/bin/usacloud) and the prologue; returns the prologue's
    path. The client holds the script's cookie: every file is the user's only (0600, the launcher 0700),
    in directories only the user may enter (0700)."""
    shim = [sys.executable, "-I", "-S", str(Path(__file__).resolve().with_name("shim.py")), broker.socket_path]
    work.chmod(0o700)
    client = work / "client.bash"
    _write_private(client, protocol.client_text(broker.port, broker.cookie, shim), 0o600)
    bindir = work / "bin"
    bindir.mkdir(mode=0o700)
    launcher = bindir / "usacloud"
    _write_private(launcher, LAUNCHER.format(bash=bash, client=shlex.quote(str(client))), 0o700)
    prologue = work / "prologue.bash"
    text = PROLOGUE.format(line=LINE_ENV, client=shlex.quote(str(client)), bindir=shlex.quote(str(bindir)))
    _write_private(prologue, text, 0o600)
    return prologue


def _write_private(path: Path, text: str, mode: int) -> None:
    """A new file with ``mode`` from the start (no moment at which the umask's mode lets others read it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, mode)  # whatever the umask took away


def _last(text: str, lines: int) -> str:
    return "\n".join(text.strip("\n").splitlines()[-lines:])


def _tested_at(parsed: ParsedScript, line: int) -> bool:
    """Whether every usacloud command at ``line`` stands where bash tests its status (and there is
    one): a call from there, made where bash ignored errexit, was tested by the script."""
    here = [c for c in parsed.commands if c.line <= line <= c.end_line]
    return bool(here) and all(c.tested for c in here)


def _text_at(parsed: ParsedScript, line: int) -> str | None:
    for command in parsed.commands:
        if command.line <= line <= command.end_line:
            return command.text
    return None


def _bash_error(stderr: str, path: Path) -> tuple[int | None, str]:
    """The line and text of bash's last own error message (`SCRIPT: line N: ...`)."""
    found = re.findall(rf"(?m)^{re.escape(str(path))}: line (\d+): (.*)$", stderr)
    if not found:
        return None, ""
    line, text = found[-1]
    return int(line), text.strip()[:300]


def _bash_exit(result: runner.RunResult) -> str:
    return _bash_exit_code(result.exit_code)


def _bash_exit_code(code: int | None) -> str:
    if code is not None and code < 0:
        return f"bash was killed by signal {-code}"
    return f"bash exited with status {code}"
