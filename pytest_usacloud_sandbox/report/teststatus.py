"""A script's result in pytest's own vocabulary: ``cancelled`` and ``partly run`` beside pytest's words.

pytest knows passed, failed and skipped. A script cancelled by a stop is reported as skipped, and
one whose commands ran only in part as passed; :func:`teststatus` (``pytest_report_teststatus``)
gives each its own category, letter and word, so pytest's last line reads ``1 failed, 19
cancelled`` and ``-v`` says ``CANCELLED`` / ``PARTLY RUN``. The status travels on the report as the
user property ``usacloud_status`` (set by the item, so JUnit carries it too and it crosses xdist
with the report).
"""

from __future__ import annotations

from ..state.records import ScriptRecord, ScriptStatus
from ..usacloud.outcome import Cls
from .reprs import skipped_commands

STATUS_PROPERTY = "usacloud_status"
CANCELLED = "cancelled"
PARTLY_RUN = "partly run"
#: category -> (letter, word) in pytest's progress and with -v
WORDS = {CANCELLED: ("C", "CANCELLED"), PARTLY_RUN: ("P", "PARTLY RUN")}


def status(record: ScriptRecord) -> str:
    """``cancelled``, ``partly run`` (passed, or failed for it under --usacloud-strict, with some
    commands skipped because they need the shell) or the record's status."""
    if record.status == ScriptStatus.CANCELLED:
        return CANCELLED
    if (record.status == ScriptStatus.PASSED or record.cls == Cls.PARTLY_RUN) and skipped_commands(record):
        return PARTLY_RUN
    return str(record.status)


def teststatus(report) -> tuple[str, str, tuple[str, dict]] | None:
    """``pytest_report_teststatus`` for a script's call report; None leaves it to pytest."""
    if report.when != "call" or hasattr(report, "wasxfail"):
        return None
    word = dict(report.user_properties).get(STATUS_PROPERTY)
    if (word == CANCELLED and report.skipped) or (word == PARTLY_RUN and report.passed):
        letter, shown = WORDS[word]
        return word, letter, (shown, {"yellow": True})
    return None


LAST_FAILED_KEY = "cache/lastfailed"  # the cache plugin's list that --lf and --ff read


def remember_cancelled(config, nodeids: list[str]) -> None:
    """Cancelled scripts never reached a verdict: ``--lf`` runs them again, as it does failures.

    pytest drops a skipped test from its last-failed list; a cancelled script is reported as
    skipped, so they are put back (called once the cache plugin has saved the list)."""
    cache = getattr(config, "cache", None)
    if cache is None or not nodeids:
        return
    lastfailed = cache.get(LAST_FAILED_KEY, {})
    if isinstance(lastfailed, dict):
        lastfailed.update(dict.fromkeys(nodeids, True))
        cache.set(LAST_FAILED_KEY, lastfailed)
