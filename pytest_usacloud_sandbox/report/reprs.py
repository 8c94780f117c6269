"""Plain-text descriptions of a script's result (they cross xdist as strings).

A failure's text opens with its class and message (what pytest's short summary shows after
``FAILED path::name - ``); the next line gives the file and line, then the details.
"""

from __future__ import annotations

import fnmatch
import functools
import itertools
import re
import shlex
from collections.abc import Sequence
from pathlib import Path

from ..record.command import NEEDS_SHELL, CommandRecord
from ..record.script import ScriptRecord
from ..record.vocabulary import CommandStatus, ResultClass
from ..usacloud.mask import MASK

OUTPUT_LINES = 30  # lines of output tail shown in a failure

# Terminal control sequences (CSI, OSC, other ESC sequences) and the remaining C0/C1 controls.
_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` safe for a terminal, JUnit XML and the report: colour and cursor sequences are
    removed, any other control character is shown escaped (``\\x1b``); newlines and tabs stay."""
    if not text or not _CONTROL.search(text):  # the common case: nothing to remove or escape
        return text
    text = text.replace("\r\n", "\n")
    text = _SEQUENCE.sub("", text)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _quote(word: str) -> str:
    if word and (
        word.replace(MASK, "") == ""
        or ("=" + MASK in word and shlex.quote(word.replace(MASK, "x")) == word.replace(MASK, "x"))
    ):
        return word  # a masked value needs no quotes
    return shlex.quote(word)


def shown(words) -> str:
    """Words as one shell-quoted line (a word with a newline stays on one line)."""
    return " ".join(_quote(w) for w in words).replace("\n", "\\n")


_TAG_FLAGS = ("--tags", "--disk-tags")


def written_note(cmd: CommandRecord) -> str:
    """What the policy changed, as the script wrote it ("" when nothing changed). Tags the run added
    to a create (shown in the words that ran) are not counted as a change."""
    words = _without_added_tags(cmd.words, cmd.written)
    if not cmd.written or list(cmd.written) == words:
        return ""
    if len(cmd.written) == len(words):
        return shown(w for w, p in zip(cmd.written, words, strict=True) if w != p)
    return shown(cmd.written)


def _without_added_tags(words: Sequence[str], written: Sequence[str]) -> list[str]:
    """``words`` without the ``--tags X`` / ``--disk-tags X`` pairs that ``written`` does not have."""
    given = {(a, b) for a, b in itertools.pairwise(written) if a in _TAG_FLAGS}
    out, i = [], 0
    while i < len(words):
        pair = (words[i], words[i + 1] if i + 1 < len(words) else "")
        if pair[0] in _TAG_FLAGS and pair not in given and i + 1 < len(words):
            i += 2
            continue
        out.append(words[i])
        i += 1
    return out


def command_line(cmd: CommandRecord) -> str:
    words = shown(cmd.words) if cmd.words else cmd.text
    note = written_note(cmd)
    extra = f"  [as written: {note}]" if note else ""
    if cmd.status == CommandStatus.SKIPPED:
        extra += f"  ({cmd.message})"
    elif cmd.cls and cmd.cls != ResultClass.OK:
        extra += f"  ({cmd.cls})"
    if len(cmd.attempts) > 1:
        extra += f"  [{len(cmd.attempts)} attempts]"
    return f"{cmd.status:<9} line {cmd.line:<4} {words}{extra}"


def command_list(record: ScriptRecord, indent: str = "  ") -> list[str]:
    return [indent + command_line(c) for c in record.commands]


def plan_line(cmd: CommandRecord) -> str:
    """A dry-run's line for one command: what would run after the policy, or why not."""
    expanded = cmd.words and cmd.status != CommandStatus.SKIPPED  # a skipped command shows as written
    words = shown(cmd.words) if expanded else _one_line(cmd.text)
    if cmd.status == CommandStatus.DRY_RUN:
        note = written_note(cmd)  # what the policy changed, as the script wrote it
        return f"would run: {words}" + (f"  [as written: {note}]" if note else "")
    if cmd.message:
        return f"{cmd.status}: {words}  ({_one_line(cmd.message)})"
    return f"{cmd.status}: {words}"


def header(cls: str | None, message: str, where: str) -> list[str]:
    """The first two lines of a failure: ``class: message``, then the file and line."""
    first = _one_line(message) or "failed"
    return [f"{cls}: {first}" if cls else first, f"  at {where}"]


def details(record: ScriptRecord) -> list[str]:
    """The failing command (line, words run, exit, hint, check findings, output tails) and every command."""
    failing = next((c for c in record.commands if c.failed), None)
    if failing is None:  # the script failed as a whole (partly run under --usacloud-strict)
        return ["  commands:", *command_list(record, indent="    ")] if record.commands else []
    lines = [f"  line {failing.line}: {failing.text}".replace("\n", "\n" + " " * 4)]
    if failing.words:
        label = "ran:      " if failing.attempts else "would run:"
        lines.append(f"  {label} {shown(failing.words)}")
    if failing.attempts:
        lines.append(f"  exit code {failing.exit_code}, class {failing.cls}, {len(failing.attempts)} attempt(s)")
    else:
        lines.append(f"  class {failing.cls} (not executed)")
    if failing.hint:
        lines.append(f"  hint: {failing.hint}")
    for finding in failing.findings:
        if finding.severity == "error":
            fix = f" (fix: {finding.fix})" if finding.fix else ""
            lines.append(f"  check: {finding.message}{fix}")
    for name, text in (("stderr", failing.stderr_tail), ("stdout", failing.stdout_tail)):
        if text.strip():
            tail = text.strip("\n").splitlines()[-OUTPUT_LINES:]
            lines.append(f"  --- {name} (last {len(tail)} lines) ---")
            lines.extend("  " + line for line in tail)
    others = [c for c in record.commands if c.failed and c is not failing]
    for other in others:  # dry-run reports every invalid command
        lines.append(f"  also line {other.line}: {other.cls}: {other.message}")
    lines.append("  commands:")
    lines.extend(command_list(record, indent="    "))
    return lines


def failure_text(record: ScriptRecord, relpath: str) -> str:
    where = f"{relpath}:{record.line}" if record.line else relpath
    return "\n".join(header(record.cls, record.message, where) + details(record))


def cancel_text(script: str, cls: str, started: int = 0, shard: str = "") -> str:
    """A cancelled script's skip reason: short, naming the script that stopped the run (and its shard
    when another run of the group stopped it; its full error appears once, in that script's own
    report), and how many of its own commands had started."""
    where = f"shard {shard!r}: " if shard else ""
    text = f"cancelled: run stopped by {where}{script} ({cls})"
    if started:
        text += f"; {started} of its commands had started" if started > 1 else "; 1 of its commands had started"
    return text


def skipped_commands(record: ScriptRecord) -> list[CommandRecord]:
    """The commands that were not run because they need the shell."""
    return [c for c in record.commands if c.status == CommandStatus.SKIPPED]


def nothing_ran(record: ScriptRecord, dry_run: bool, shell_wanted: bool) -> tuple[str, int | None] | None:
    """Why a script that passed ran nothing (so it is skipped, not passed), and the line of the first
    cause; None if something ran."""
    if any(c.done for c in record.commands):
        return None
    if not record.commands:
        if record.mode == "shell":
            return "nothing ran: the script made no usacloud call under bash", None
        return "no usacloud command", None
    skipped = skipped_commands(record)
    if not skipped:
        return None
    n = len(skipped)
    verb = "would run" if dry_run else "ran"
    head = f"nothing {verb}: {n} usacloud command{'s' if n != 1 else ''} need{'s' if n == 1 else ''} the shell"
    return _needs_shell(head, skipped[0], shell_wanted)


def is_partly_run(record: ScriptRecord) -> bool:
    """Some of its usacloud commands need the shell, or a skipped line can decide its result."""
    return bool(record.skipped_checks) or bool(skipped_commands(record))


def partly_run(record: ScriptRecord, dry_run: bool, shell_wanted: bool) -> tuple[str, int | None]:
    """Why a script whose commands ran only in part fails under ``--usacloud-strict``, and the line
    of the first command that did not run (or of the first skipped line that decides its result)."""
    skipped = skipped_commands(record)
    n, total = len(skipped), len(record.commands)
    verb = "would run" if dry_run else "ran"
    if not skipped:
        first = record.skipped_checks[0]
        text = first.text if len(first.text) <= 80 else first.text[:77] + "..."
        checks = len(record.skipped_checks)
        head = (
            f"{total} of {total} usacloud commands {verb}, but {checks} skipped line{'s' if checks != 1 else ''} "
            f"can decide the script's result (line {first.line}: `{_one_line(text)}`: {first.why})"
        )
        advice = _shell_advice(shell_wanted) if shell_wanted else "shell mode runs them: mark it `usacloud_shell`"
        return f"{head}; {advice}", first.line
    head = f"{total - n} of {total} usacloud commands {verb}, {n} need{'s' if n == 1 else ''} the shell"
    return _needs_shell(head, skipped[0], shell_wanted)


def _needs_shell(head: str, first: CommandRecord, shell_wanted: bool) -> tuple[str, int]:
    expansion = first.message.removeprefix(NEEDS_SHELL)
    return f"{head} (line {first.line}: `{expansion}`); {_shell_advice(shell_wanted)}", first.line


def _shell_advice(shell_wanted: bool) -> str:
    return "shell mode does not run in a dry-run" if shell_wanted else "mark it `usacloud_shell`"


def is_script(path: Path, glob: str) -> bool:
    return fnmatch.fnmatch(path.name, glob)


@functools.lru_cache(maxsize=1024)  # the controller asks it of every report: 3 and more a script
def script_path(nodeid: str, glob: str) -> str | None:
    """The script's path in a node id ``PATH::NAME`` (NAME is the file's stem), or None when it is not a
    script's. Paths that hold ``::`` themselves are found too."""
    at = nodeid.find("::")
    while at >= 0:
        path, name = nodeid[:at], nodeid[at + 2 :]
        if Path(path).stem == name and is_script(Path(path), glob):
            return path
        at = nodeid.find("::", at + 1)
    return None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
