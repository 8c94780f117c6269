"""The offline check against command lines just inside and just outside each of usacloud's rules.

``tests/data/mutants.jsonl`` is made by ``tools/gen_mutants.py`` from the command table's validation
tags (and, by hand, the subcommands' own Validate rules, pflag's value syntax and ``--parameters``):
each line is one correct command with one mutation, with the verdict usacloud gives it and the
lines it prints after ``validation error:`` (or cobra's ``Error:`` line). ``expected_by`` says where
the verdict came from: the rule as the sources define it, or a run of the real usacloud 1.22.8
(``tools/gen_mutants.py --confirm-with BIN``). Every line runs in a directory holding
``mutant-file.txt`` and the line's own ``files``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from pytest_usacloud_sandbox.usacloud.check import check_command

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "mutants.jsonl"


@pytest.fixture
def gen(gen_mutants):
    return gen_mutants


def _records() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text("utf-8").splitlines()]


def usacloud_lines(findings) -> list[str]:
    """What usacloud prints for each error the check found (the words before the explanation)."""
    lines = []
    for finding in findings:
        if finding.severity == "error":
            lines.append(finding.message.removeprefix("validation error: ").split(" — ")[0])
    return sorted(lines)


def check_record(gen, record: dict, where: Path) -> tuple[str, list[str]]:
    where.mkdir(parents=True, exist_ok=True)
    for name, text in {**gen.FILES, **(record.get("files") or {})}.items():
        (where / name).write_text(text, encoding="utf-8")
    findings = check_command(["usacloud", *record["argv"]], where, str(where / "home"))
    verdict = "rejected" if any(f.severity == "error" for f in findings) else "accepted"
    return verdict, usacloud_lines(findings)


def test_the_check_agrees_with_every_mutant(gen, tmp_path):
    records = _records()
    assert len(records) > 1500
    caught, false_rejections, wrong_words = Counter(), [], []
    for record in records:
        verdict, lines = check_record(gen, record, tmp_path / record["id"])
        kind = record["kind"].split(" (")[0]
        if record["expected"] == "rejected":
            caught[kind, verdict == "rejected"] += 1
            if verdict == "rejected" and lines != record["lines"] and not record.get("words_vary"):
                wrong_words.append((record["id"], record["argv"], record["lines"], lines))
        elif verdict == "rejected":
            false_rejections.append((record["id"], record["argv"], lines))
    missed = [kind for (kind, hit), n in caught.items() if not hit for _ in range(n)]
    rejected = sum(caught.values())
    assert false_rejections == [], f"{len(false_rejections)} accepted lines rejected: {false_rejections[:10]}"
    assert not missed, f"{len(missed)} of {rejected} rejected lines passed the check: {Counter(missed)}"
    assert wrong_words == [], f"{len(wrong_words)} lines not in usacloud's words: {wrong_words[:10]}"


def test_every_rule_kind_has_both_sides(gen):
    kinds = Counter((r["kind"].split(" (")[0], r["expected"]) for r in _records())
    for rule in ("oneof", "min", "max", "unique", "ipv4", "ipv6", "fqdn", "file"):
        assert kinds[rule, "rejected"], rule
        assert any(rule in kind for kind, verdict in kinds if verdict == "accepted"), rule
    for rule in ("cidrv4", "mac", "gt"):  # list elements only
        assert any(rule in kind for kind, verdict in kinds if verdict == "accepted"), rule
        assert kinds["dive", "rejected"], rule
    for rule in ("zero value", "required_with", "required_without", "excludesrune", "dive"):
        assert any(k.startswith(rule) and v == "rejected" for k, v in kinds), rule
    for rule in ("pflag int", "pflag bool", "pflag csv", "custom conflict", "parameters"):
        assert kinds[rule, "accepted"] and kinds[rule, "rejected"], rule


def test_the_data_is_what_the_generator_makes(gen):
    """The committed lines are the generator's (regenerate with tools/gen_mutants.py); where the real
    usacloud judged a line, its verdict is the one kept."""
    made = {r["id"]: r for r in gen.generate()}
    committed = {r["id"]: r for r in _records()}
    assert made.keys() == committed.keys(), "stale: run python tools/gen_mutants.py"
    for ident, record in committed.items():
        assert record["argv"] == made[ident]["argv"], ident
        assert record.get("words_vary") == made[ident].get("words_vary"), ident
        assert (record["expected"], record["lines"]) == (made[ident]["expected"], made[ident]["lines"]), ident
        assert record["expected_by"] in ("rule", gen.REAL_JUDGE)


@pytest.mark.real_usacloud
def test_the_real_usacloud_gives_every_mutant_its_verdict(gen):
    """Each line through the real binary (USACLOUD_REAL_BIN) in a network namespace with no network,
    fake mode, dummy keys, the sandbox zone: its verdict and words are the data's."""
    binary = os.environ.get("USACLOUD_REAL_BIN")
    if not binary:
        pytest.skip("USACLOUD_REAL_BIN names no real usacloud 1.22.8 binary")
    if os.system("unshare -n true 2>/dev/null") != 0:
        pytest.skip("unshare -n is not available: the real usacloud runs only without a network")
    differ = []
    for record, verdict, lines, note in gen.confirm(binary, _records()):
        if record.get("words_vary"):  # Go's words for it differ by Go release: the verdict is what counts
            lines = record["lines"] if verdict == "rejected" else []
        if (verdict, lines if verdict == "rejected" else []) != (record["expected"], record["lines"]):
            differ.append((record["id"], record["argv"], record["expected"], record["lines"], verdict, lines, note))
    assert differ == [], f"{len(differ)} lines: {differ[:10]}"
