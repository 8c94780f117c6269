"""A script's result in pytest's own vocabulary: ``cancelled`` and ``partly run`` beside pytest's words.

pytest knows passed, failed and skipped. A script cancelled by a stop is reported as skipped, and
one whose commands ran only in part as passed; :func:`teststatus` (``pytest_report_teststatus``)
gives each its own category, letter and word, so pytest's last line reads ``1 failed, 19
cancelled`` and ``-v`` says ``CANCELLED`` / ``PARTLY RUN``. The status travels on the report as the
user property ``usacloud_status`` (set by the item, so JUnit carries it too and it crosses xdist
with the report). :func:`outcome` is the script's outcome as the report's ``outcome`` says it.
"""

from __future__ import annotations

from ..record.script import ScriptRecord
from ..record.vocabulary import ResultClass, ScriptOutcome
from .reprs import is_partly_run

STATUS_PROPERTY = "usacloud_status"
#: category -> (letter, word) in pytest's progress and with -v
WORDS = {ScriptOutcome.CANCELLED: ("C", "CANCELLED"), ScriptOutcome.PARTLY_RUN: ("P", "PARTLY RUN")}


def status(record: ScriptRecord) -> ScriptOutcome:
    """``cancelled``, ``partly run`` (passed, or failed for it under --usacloud-strict, with some
    commands skipped because they need the shell or skipped lines that can decide its result) or the
    record's status."""
    if record.status == ScriptOutcome.CANCELLED:
        return ScriptOutcome.CANCELLED
    partly = record.status == ScriptOutcome.PASSED or record.cls == ResultClass.PARTLY_RUN
    if partly and is_partly_run(record):
        return ScriptOutcome.PARTLY_RUN
    return ScriptOutcome(record.status)


def outcome(report, record: ScriptRecord | None) -> ScriptOutcome:
    """The script's outcome as pytest reported it (its report made, xfail applied): ``cancelled``
    for a skip caused by a stop, ``xfailed`` / ``xpassed`` for an xfail."""
    if hasattr(report, "wasxfail"):
        return ScriptOutcome.XPASSED if report.passed else ScriptOutcome.XFAILED
    if report.skipped and record is not None and record.status == ScriptOutcome.CANCELLED:
        return ScriptOutcome.CANCELLED
    return ScriptOutcome(report.outcome)


def teststatus(report) -> tuple[str, str, tuple[str, dict]] | None:
    """``pytest_report_teststatus`` for a script's call report; None leaves it to pytest."""
    if report.when != "call" or hasattr(report, "wasxfail"):
        return None
    word = dict(report.user_properties).get(STATUS_PROPERTY)
    if (word == ScriptOutcome.CANCELLED and report.skipped) or (word == ScriptOutcome.PARTLY_RUN and report.passed):
        letter, shown = WORDS[word]
        return str(word), letter, (shown, {"yellow": True})
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
