"""Plain-text descriptions of a script's result (they cross xdist as strings)."""

from __future__ import annotations

import shlex

from ..state.records import CommandRecord, ScriptRecord
from ..usacloud.mask import MASK

OUTPUT_LINES = 30  # lines of output tail shown in a failure


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


def written_note(cmd: CommandRecord) -> str:
    """What the policy changed, as the script wrote it ("" when nothing changed)."""
    if not cmd.written or cmd.written == cmd.words:
        return ""
    if len(cmd.written) == len(cmd.words):
        return shown(w for w, p in zip(cmd.written, cmd.words, strict=True) if w != p)
    return shown(cmd.written)


def command_line(cmd: CommandRecord) -> str:
    words = shown(cmd.words) if cmd.words else cmd.text
    note = written_note(cmd)
    extra = f"  [as written: {note}]" if note else ""
    if cmd.status == "skipped":
        extra += f"  ({cmd.message})"
    elif cmd.cls and cmd.cls != "ok":
        extra += f"  ({cmd.cls})"
    if len(cmd.attempts) > 1:
        extra += f"  [{len(cmd.attempts)} attempts]"
    return f"{cmd.status:<9} line {cmd.line:<4} {words}{extra}"


def command_list(record: ScriptRecord, indent: str = "  ") -> list[str]:
    return [indent + command_line(c) for c in record.commands]


def failure_text(record: ScriptRecord, relpath: str) -> str:
    failing = next((c for c in record.commands if c.failed), None)
    if failing is None:
        return f"{relpath}: {record.message}"
    lines = [f"{relpath}:{failing.line}: {failing.cls}: {failing.message}"]
    lines.append(f"  line {failing.line}: {failing.text}".replace("\n", "\n" + " " * 4))
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
        if finding["severity"] == "error":
            fix = f" (fix: {finding['fix']})" if finding.get("fix") else ""
            lines.append(f"  check: {finding['message']}{fix}")
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
    return "\n".join(lines)


def cancel_text(record: ScriptRecord, reason: str) -> str:
    ran = [c for c in record.commands if c.attempts]
    text = f"cancelled: {reason}"
    if ran:
        text += "; already ran: " + ", ".join(f"line {c.line} ({c.status})" for c in ran)
    return text
