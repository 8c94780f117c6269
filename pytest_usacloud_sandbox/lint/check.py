"""The dry-run of one script without pytest: its record (as the JSON report has it) and its problems.

The script is loaded as the pytest item loads it (:func:`~..script.load.load_script`) and each
command goes through :func:`~..usacloud.plan.plan_command`, as the engine sends it in a dry-run:
the same verdicts in the same words. What pytest alone decides is left out: ``skip`` and ``xfail``
markers do not change what is reported here.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..cleanup import tagging
from ..cleanup.runid import PLACEHOLDER
from ..record.command import CommandRecord
from ..record.script import ScriptRecord
from ..record.vocabulary import CommandStatus, ResultClass, ScriptOutcome
from ..report.reprs import nothing_ran
from ..script.load import load_script, marked_shell
from ..script.parse import Command, ScriptError
from ..script.source import MAX_SCRIPT_BYTES_DEFAULT, read_script_text
from ..usacloud.mask import Masker
from ..usacloud.plan import plan_command
from ..usacloud.policy import Policy

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Options:
    """What the dry-run's options decide: the policy (None: ``--no-policy``), whether every script
    runs under bash (``--usacloud-mode=shell``), the size limit, and the environment whose secrets
    are masked."""

    policy: Policy | None = field(default_factory=Policy)
    shell: bool = False
    max_bytes: int = MAX_SCRIPT_BYTES_DEFAULT
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """One finding at a place in a script: ``path:line:col: rule: message``."""

    path: str
    line: int
    col: int
    rule: str
    message: str
    severity: str = ERROR

    def text(self) -> str:
        kind = "warning: " if self.severity == WARNING else ""
        return f"{self.path}:{self.line}:{self.col}: {self.rule}: {kind}{self.message}"


@dataclass
class Linted:
    """One script's record (the dry-run's) and its problems, errors and warnings, in the order of its commands."""

    record: ScriptRecord  # frozen, its outcome its status (no pytest to report it)
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]


def lint_script(path: Path, shown: str, options: Options) -> Linted:
    """The dry-run of the script at ``path``; ``shown``: its path as problems name it."""
    mode = "shell" if options.shell else "commands"
    record = ScriptRecord(path=shown, nodeid=f"{shown}::{path.stem}", mode=mode)
    record.start = time.time()
    try:
        script = load_script(path, options.max_bytes, shell=True if options.shell else None)
    except ScriptError as exc:
        return _unusable(record, exc.line, exc.message, options)
    except OSError as exc:  # the item's words when it cannot read a script
        return _unusable(record, 0, f"cannot read the script: {exc.strerror or exc}", options)
    record.mode = "commands"  # a dry-run checks the commands of every script, shell mode's too
    masker = Masker.for_commands(options.env, script.commands)
    cwd = path.absolute().parent  # usacloud runs in the script's directory (a relative --parameters file)
    policy = dataclasses.replace(options.policy, cwd=cwd) if options.policy is not None else None
    record.skipped_lines = len(script.skipped)
    found: list[tuple[Command, CommandRecord, str | None]] = []
    for command in script.commands:
        cmd = CommandRecord(line=command.line, text=masker.text(command.text))
        record.commands.append(cmd)
        planned = plan_command(command, cmd, masker, policy, cwd, options.env.get("HOME"), options.env)
        refusal = planned.refusal if planned is not None else None
        refused = masker.text(refusal.describe()) if refusal is not None else None
        if planned is not None and not cmd.failed:  # a create gets the run's tag, as in a run
            if tagging.record(cmd, masker, tagging.tag_create(planned.words, [PLACEHOLDER.tag], cwd)):
                cmd.status = CommandStatus.DRY_RUN
            else:
                refused = cmd.message
        found.append((command, cmd, refused))
        if cmd.failed and record.status != ScriptOutcome.FAILED:  # the first failure is the script's
            record.status, record.cls, record.line = ScriptOutcome.FAILED, cmd.cls, cmd.line
            record.message = cmd.message
    record.end = time.time()
    if record.status == ScriptOutcome.PASSED:
        nothing = nothing_ran(record, True, options.shell or marked_shell(script))
        if nothing is not None:
            record.status, (record.message, record.line) = ScriptOutcome.SKIPPED, nothing
    return Linted(_finished(record), _problems(path, shown, found, options.max_bytes))


def _unusable(record: ScriptRecord, line: int, message: str, options: Options) -> Linted:
    """A script that cannot be read or parsed, or breaks the straight-line rule: it fails at ``line``."""
    message = Masker.from_sources(options.env).text(message)
    record.status, record.cls = ScriptOutcome.FAILED, ResultClass.INVALID_SCRIPT
    record.line, record.message, record.end = line, message, time.time()
    return Linted(_finished(record), [Problem(record.path, max(line, 1), 1, str(ResultClass.INVALID_SCRIPT), message)])


def _finished(record: ScriptRecord) -> ScriptRecord:
    record.outcome = record.status
    return record.freeze()


def _problems(path: Path, shown: str, found, max_bytes: int) -> list[Problem]:
    """A problem per refusal and per finding of the offline check, placed at the word it is about."""
    if not any(refusal or cmd.findings for _, cmd, refusal in found):
        return []
    try:
        lines = read_script_text(path, max_bytes).split("\n")
    except (ScriptError, OSError):  # changed since it was checked: the problems stay, at their command's line
        lines = []
    problems = []
    for command, cmd, refusal in found:
        if refusal is not None:
            line, col = _place(lines, command, "")
            problems.append(Problem(shown, line, col, str(cmd.cls), refusal))
        for finding in cmd.findings:
            line, col = _place(lines, command, finding.word)
            message = finding.message + (f" (fix: {finding.fix})" if finding.fix else "")
            problems.append(Problem(shown, line, col, finding.code, message, finding.severity))
    return problems


def _place(lines: list[str], command: Command, word: str) -> tuple[int, int]:
    """Line and column (1-based) of ``word`` in the command's lines, after its command word; the
    command word's own place when ``word`` is empty or not found as written."""
    first, last = command.line, max(command.end_line, command.line)
    head = command.words[0] if command.words else "usacloud"
    start_line, start_col = first, 0
    for number in range(first, min(last, len(lines)) + 1):
        at = lines[number - 1].find(head)
        if at < 0 and head != "usacloud":
            at = lines[number - 1].find("usacloud")
        if at >= 0:
            start_line, start_col = number, at
            break
    if word:
        for number in range(start_line, min(last, len(lines)) + 1):
            text = lines[number - 1]
            offset = start_col + len(head) if number == start_line else 0
            at = text.find(word, offset)
            if at >= 0:
                return number, at + 1
    return start_line, start_col + 1
