"""The offline part of one command: the check on its words as written, then the sandbox policy.

What it finds goes into the command's record (findings, the words before and after the policy, and
the status when it may not run: skipped, refused or invalid). The engine calls it before every
command it runs or, in a dry-run, instead of running it; ``usacloud-lint`` calls it for every
command of a script, so both give the same verdicts in the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..record.command import NEEDS_SHELL, CommandRecord
from ..record.vocabulary import CommandStatus, ResultClass
from .check import check_command
from .commands import resolve
from .mask import Masker
from .policy import Planned, Policy

if TYPE_CHECKING:
    from ..script.parse import Command

CHECK_HINT = "found by the offline check against usacloud's command tree; nothing was sent"


def plan_command(
    command: Command,
    cmd: CommandRecord,
    masker: Masker,
    policy: Policy | None,
    cwd: Path | None = None,
    home: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Planned | None:
    """Check ``command`` and apply ``policy`` (None: none, the words run as written); fill ``cmd``.

    Returns None when the command needs the shell (``cmd`` is skipped), else the policy's plan;
    ``cmd.failed`` then tells whether it may run (refused by the policy, or invalid by the check).
    ``cwd`` is where usacloud would run: a relative ``--parameters`` file is read there; ``home`` its
    ``$HOME`` (``--parameters ~/FILE``; None: this process's); ``env`` the environment usacloud
    would get before the command's ``VAR=value`` prefixes (the check validates usacloud's settings).
    """
    if command.expansion is not None:
        cmd.status = CommandStatus.SKIPPED
        cmd.message = f"{NEEDS_SHELL}{masker.text(command.expansion)}"
        cmd.words = list(masker.words(command.words))
        return None
    # The offline check reads the words as written (a bad zone is a bad zone even though the
    # policy pins it); only then does the policy rewrite them for execution. Both are kept.
    findings = check_command(command.words, cwd, home, {**(env or {}), **dict(command.assignments)})
    cmd.findings = [
        replace(f, word=masker.text(f.word), message=masker.text(f.message), fix=masker.text(f.fix) if f.fix else f.fix)
        for f in findings
    ]
    errors = "; ".join(masker.text(f.message) for f in findings if f.severity == "error")
    if policy is None:
        planned = Planned(tuple(command.words), False, None, resolve(command.words))
    else:
        planned = policy.apply(command.words, command.assignments)
    cmd.written = list(masker.words(command.words))
    cmd.words = list(masker.words(planned.words))
    cmd.zone_rewritten = planned.zone_rewritten
    if planned.refusal is not None:
        cmd.status, cmd.cls = CommandStatus.REFUSED, ResultClass.REFUSED
        cmd.message = masker.text(planned.refusal.describe())  # it may quote the script's words
        if errors:
            cmd.message += f"; the offline check also fails it: {errors}"
    elif errors:
        cmd.status, cmd.cls = CommandStatus.INVALID, ResultClass.USAGE
        cmd.message = errors
        cmd.hint = CHECK_HINT
    return planned
