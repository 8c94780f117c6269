"""The dry-run's verdict against the real usacloud 1.22.8's, on 2,243 real command lines.

``../shared/corpus/commands.jsonl`` holds command lines from usacloud-update's test data, the
docs.usacloud.jp guides, usacloud's own e2e tests and public scripts, each with what the real
usacloud did with it (``real``: accepted, rejected or not-comparable; see its README). Each line
runs through the plugin's dry-run in this process (parse, offline check, policy), exactly as a
script holding that line would. A line is rejected when the offline check reports an error on one
of its commands (a command the policy refuses is still checked); otherwise it is accepted.

The corpus' verdicts are usacloud's validation verdicts: `-h`/`--help`, `--generate-skeleton` and
`--example` print something and exit 0, so the corpus calls them accepted. The check fails such a
command too (`no-op`: it runs nothing), which answers another question; that finding is left out of
the comparison, and every line that has it must be one the real usacloud accepts.
"""

from __future__ import annotations

import json

from standin_tools import shared_file

from pytest_usacloud_sandbox.script.parse import ScriptError

REQUIRED_AGREEMENT = 1.0


#: The finding of a command that usacloud accepts but that runs nothing (it only prints).
NO_OP = "no-op"


def verdict(record) -> tuple[str, str]:
    """("rejected" | "accepted", why) for a dry-run script record: usacloud's validation verdict."""
    errors = [f.message for c in record.commands for f in c.findings if f.severity == "error" and f.code != NO_OP]
    if errors:
        return "rejected", "; ".join(errors)
    return "accepted", ", ".join(f"line {c.line}: {c.status}" for c in record.commands) or "no usacloud command"


def test_dry_run_agrees_with_the_real_usacloud(dry_engine):
    lines = [json.loads(line) for line in shared_file("corpus/commands.jsonl").read_text("utf-8").splitlines()]
    comparable = [line for line in lines if line["real"] in ("accepted", "rejected")]
    assert len(lines) > 2000 and len(comparable) > 2000
    disagreements, noops = [], []
    for line in comparable:
        try:
            record = dry_engine(line["text"])
        except ScriptError as exc:
            got, why = "rejected", f"the script does not parse: {exc}"
        else:
            got, why = verdict(record)
            if any(f.code == NO_OP for c in record.commands for f in c.findings):
                noops.append((line["id"], line["real"], line["real_reason"]))
        if got != line["real"]:
            command = line["text"].split("\n", 1)[1].strip()
            disagreements.append(
                f"{line['id']}: real usacloud {line['real']} ({line['real_reason']}), dry-run {got} ({why}): {command}"
            )
    agreed = len(comparable) - len(disagreements)
    figure = f"{agreed} of {len(comparable)} comparable lines ({agreed / len(comparable):.2%})"
    assert agreed / len(comparable) >= REQUIRED_AGREEMENT, f"agreement {figure}:\n" + "\n".join(disagreements)
    # the lines that only print: usacloud accepts them (exit 0), and they do no work
    assert len(noops) >= 8 and all(real == "accepted" and reason == "rc 0" for _, real, reason in noops), noops
