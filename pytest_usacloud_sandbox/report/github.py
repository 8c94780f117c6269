"""GitHub Actions: an ``::error`` annotation per failed script, warnings, and a Markdown run summary.

With ``--usacloud-github=auto`` (the default) both are on when ``GITHUB_ACTIONS=true``. The texts
come from the run log (masked at the source) and are masked once more here, like every output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..usacloud.mask import Masker
from .reprs import printable
from .summary import partly_why, rate_text, total_wait_text


def enabled(setting: str, env: Mapping[str, str]) -> bool:
    if setting == "on":
        return True
    if setting == "off":
        return False
    return env.get("GITHUB_ACTIONS", "").lower() == "true"


def escape_data(text: str) -> str:
    """A workflow command's message: %, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: the message's escapes, and ':' and ','."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(log, rootdir: Path, env: Mapping[str, str]) -> list[str]:
    """``::error file=...,line=...,title=...::message`` for each failed script (paths relative to the
    workspace, so GitHub puts them on the script's line in the diff)."""
    masker = Masker.from_sources(env)
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
    out = []
    for f in sorted(log.failed, key=lambda f: (f.where, f.line or 0)):
        path = os.path.relpath(Path(rootdir) / f.where, workspace)
        props = f"file={escape_property(path)}"
        if f.line:
            props += f",line={f.line}"
        title = f"usacloud {f.cls}: {Path(f.where).name}"
        message = masker.text(printable(f"{f.cls}: {f.message}"))
        out.append(f"::error {props},title={escape_property(masker.text(title))}::{escape_data(message)}")
    return out


def warning(title: str, message: str, env: Mapping[str, str]) -> str:
    """``::warning title=...::message`` (masked like every output)."""
    masker = Masker.from_sources(env)
    return f"::warning title={escape_property(masker.text(title))}::{escape_data(masker.text(printable(message)))}"


def _cell(text: str) -> str:
    return printable(str(text)).replace("|", "\\|").replace("\n", " ")


def step_summary(log, ended: float, stop_reason: str | None, limiter: str, env: Mapping[str, str]) -> str:
    """The run as Markdown for ``$GITHUB_STEP_SUMMARY``: counts by outcome and class, the failed
    scripts with their line and message, and the limiter's figures."""
    masker = Masker.from_sources(env)
    total = log.total or 0
    lines = ["## usacloud sandbox", ""]
    lines += ["| outcome | scripts |", "|---|---:|"]
    lines += [f"| {o} | {n} |" for o, n in log.counts.items()]
    lines += [f"| **total** | **{total}** |", ""]
    if log.partly:
        lines += [
            f"### Partly run ({len(log.partly)})",
            "",
            f"Passed, but {partly_why(log.partly)}.",
            "",
        ]
        checks = any(p.checks for p in log.partly)  # its column only when a script has one
        lines += ["| script | commands run | skipped |" + (" deciding lines skipped |" if checks else "")]
        lines += ["|---|---:|---:|" + ("---:|" if checks else "")]
        for p in sorted(log.partly, key=lambda p: p.where):
            extra = f" {p.checks} |" if checks else ""
            lines.append(f"| `{_cell(p.where)}` | {p.ran} of {p.commands} | {p.skipped} |{extra}")
        lines.append("")
    if log.by_class:
        lines += ["| command class | commands |", "|---|---:|"]
        lines += [f"| {_cell(k)} | {v} |" for k, v in sorted(log.by_class.items(), key=lambda kv: (-kv[1], kv[0]))]
        lines.append("")
    if stop_reason:
        lines += [f"**Stopped:** {_cell(stop_reason)}", ""]
    if log.failed:
        lines += [f"### Failed scripts ({len(log.failed)})", "", "| script | line | class | message |"]
        lines.append("|---|---:|---|---|")
        for f in sorted(log.failed, key=lambda f: (f.where, f.line or 0)):
            lines.append(f"| `{_cell(f.where)}` | {f.line or ''} | {_cell(f.cls)} | {_cell(f.message)} |")
        lines.append("")
    lines += ["### Limiter", "", f"- {_cell(limiter)}"]
    if not getattr(log.settings, "dry_run", False):
        lines.append(f"- rate: {rate_text(log)}; {total_wait_text(log.token_wait, log.attempts)}")
        lines.append(f"- attempts {log.attempts}, 429 retries {log.retries}, refused {log.refused}")
    return masker.text("\n".join(lines)) + "\n"


def append_step_summary(text: str, env: Mapping[str, str]) -> str | None:
    """Append to the file ``$GITHUB_STEP_SUMMARY`` names; returns an error text, or None."""
    target = env.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        return f"could not append to $GITHUB_STEP_SUMMARY ({target}): {exc.strerror or exc}"
    return None
