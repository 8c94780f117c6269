"""The stand-in usacloud replays every recorded call of the real usacloud 1.22.8.

Each record of ``../shared/usacloud-transcripts.jsonl`` runs against ``tests/standin/usacloud`` with its
environment, files and argv; the records of a sequence run in step order on one fake store. An answer
must equal its record byte for byte, unless the record is listed below: ``BY_SHAPE`` where only what
the plugin reads must be the same (exit status, class and message, first stderr line, IDs, JSON keys
and the fields that matter: see ``transcript_tools.judge``), ``NOT_FOLLOWED`` where the stand-in does
not follow the real one at all, each with the reason. Both lists are asserted: a listed record that
starts to follow more closely fails until it is moved, and a new record is held to byte equality.
"""

from __future__ import annotations

import pytest
from standin_tools import SHARED_DIR
from transcript_tools import groups, judge, replay, transcripts

_SUBCOMMAND_HELP = "a subcommand's help lists its flags by group with usacloud's texts: the stand-in's own help"
_CUT = "the recording cuts the output: its visible part is equal, the hidden part (the later archives) the stand-in's"
#: Records whose answer has the shape of the real one, not its bytes.
BY_SHAPE: dict[str, str] = {
    "help-subcommand": _SUBCOMMAND_HELP,
    "help-beats-validation": _SUBCOMMAND_HELP,
    "archive-list-json": _CUT,
    "archive-list-yaml": _CUT,
    "ss-server-shared": "the Go panic's goroutine trace is the stand-in's short one (its addresses are the binary's)",
}

_REST = (
    "`rest` ignores fake mode and calls the API over the network; with none the real one waited past 60 s. The "
    "stand-in never touches the network: it logs the request it would send and answers it"
)
_UNREACHABLE = (
    "not fake, with the API root on a closed port: the stand-in never touches the network and answers as a "
    "reachable API"
)
#: Records the stand-in does not follow.
NOT_FOLLOWED: dict[str, str] = {
    "rest-path": _REST,
    "rest-get": _REST,
    "rest-bad-method": _REST,
    "rest-bad-url": _REST,
    "nofake-closed": _UNREACHABLE + " (the real one retried past 30 s)",
    "trace-nofake-closed": _UNREACHABLE + " (the real one printed [TRACE] lines and panicked, exit 2)",
}


def _group_keys() -> list[str]:
    if not (SHARED_DIR / "usacloud-transcripts.jsonl").exists():
        return ["(../shared absent)"]
    return list(groups(transcripts()))


def expected(ident: str) -> str:
    return "differs" if ident in NOT_FOLLOWED else "shape" if ident in BY_SHAPE else "exact"


@pytest.mark.parametrize("group", _group_keys())
def test_the_standin_answers_as_recorded(group, tmp_path):
    calls = groups(transcripts())[group]
    wrong = []
    for record, answer in zip(calls, replay(calls, tmp_path), strict=True):
        verdict, why = judge(record, answer)
        if verdict != expected(record["id"]):
            wrong.append(f"{record['id']}: {verdict} (listed: {expected(record['id'])}) {why}")
    assert not wrong, "\n".join(wrong)


def test_the_lists_name_recorded_calls_with_their_reasons():
    records = transcripts()
    assert len(records) >= 310
    for listed in (BY_SHAPE, NOT_FOLLOWED):
        assert set(listed) <= set(records)
        assert all(reason.strip() for reason in listed.values())
    assert not set(BY_SHAPE) & set(NOT_FOLLOWED)
