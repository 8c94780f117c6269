"""Checking command start times against a token bucket's bound (shared by the rate tests)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from pytest_usacloud_sandbox.limit.store import TokenStore

JITTER = 0.020  # seconds of scheduling jitter allowed (the figure), for token grants
#: The bucket decides to the microsecond, so the grants of a run hold the bound exactly; this only
#: absorbs the rounding of epoch seconds in a float (about 0.2 us) in the window arithmetic.
GRANT_JITTER = 0.000_01
#: Launching a process on a loaded 2-core machine adds its own delay between the token and the
#: child's first instruction: measured up to 0.2 s at load 10-19 and 1.1 s at load 28 (shell mode,
#: 30 calls at 10/s). The overall span of the stand-in's starts is checked with this allowance: a
#: first launch held up that long shortens the span by as much. It still catches a bucket that does
#: not hold (every call of such a run starts within a fraction of a second; the runs checked here
#: span 1.5 s or more).
LAUNCH_JITTER = 1.2


def worst_window(starts: list[float], rate: float, burst: int, jitter: float = JITTER) -> tuple[float, int, float]:
    """The window [t, t+T] that comes closest to (or beyond) burst + rate*(T + jitter).

    Returns (excess, count, T): excess > 0 means the bound is broken.
    """
    starts = sorted(starts)
    worst = (float("-inf"), 0, 0.0)
    for i, first in enumerate(starts):
        for j in range(i, len(starts)):
            span = starts[j] - first
            count = j - i + 1
            excess = count - (burst + rate * (span + jitter))
            if excess > worst[0]:
                worst = (excess, count, span)
    return worst


def assert_rate_held(starts: list[float], rate: float, burst: int, jitter: float = JITTER) -> None:
    excess, count, span = worst_window(starts, rate, burst, jitter)
    assert excess <= 1e-9, (
        f"{count} starts within {span * 1000:.1f} ms: more than burst {burst} + {rate}/s x (T + {jitter * 1000:.0f} ms)"
    )
    total = max(starts) - min(starts)
    assert total >= (len(starts) - burst) / rate - jitter, f"{len(starts)} starts in {total:.3f}s at {rate}/s"


def run_held_to_rate(e2e, calls: int, rate: float, workers: int, *args: str):
    """Run the scripts at ``rate`` (burst 1) with a report; check the bound and the run's length.

    Returns (result, report path) for the caller's own further checks.
    """
    report = e2e.tmp / "report.json"
    started = time.monotonic()
    result = e2e.run(f"--usacloud-report={report}", "--usacloud-burst=1", *args, workers=workers, rate=str(rate))
    elapsed = time.monotonic() - started
    assert len(attempt_times(report)) == calls and len(e2e.calls()) == calls
    # every window of tokens: <= burst + R x T; every launch after its own token
    assert_run_held(report, [c["start"] for c in e2e.calls()], rate, 1)
    assert elapsed >= (calls - 1) / rate
    return result, report


def attempt_times(report_path: Path, key: str = "token_at") -> list[float]:
    """Per attempt, from the plugin's JSON report: "token_at" (the bucket admitted it) or "start" (launch)."""
    doc = json.loads(Path(report_path).read_text())
    return [a[key] for s in doc["scripts"] for c in s["commands"] for a in c["attempts"]]


def assert_run_held(report_path: Path, standin_starts: list[float], rate: float, burst: int) -> None:
    """Token grants hold the bound exactly; every launch comes after its own grant.

    Launches are not held to the bound themselves: the delay from a grant to its launch is the
    machine's scheduling, not the limiter's (see LAUNCH_JITTER), so under load two launches can
    land closer than 1/R although their grants cannot. What is checked for them is order and count:
    no attempt starts before the bucket admitted it, and one start per grant. The stand-in's own
    start times come after a Python interpreter's start-up: for them only the count and the overall
    span are checked (the run cannot finish sooner than the bucket allows).
    """
    grants = attempt_times(report_path, "token_at")
    assert_rate_held(grants, rate, burst, GRANT_JITTER)
    early = [(g, s) for g, s in zip(grants, attempt_times(report_path, "start"), strict=True) if s < g]
    assert not early, f"{len(early)} attempts launched before their token: {early[:3]}"
    assert len(standin_starts) == len(grants)
    span = max(standin_starts) - min(standin_starts)
    assert span >= (len(standin_starts) - burst) / rate - LAUNCH_JITTER


class RecordingStore(TokenStore):
    """Delegates to a real store and notes (before, after) around every admitting check().

    The admission (the store's atomic step) happened inside that interval, so a
    window count built from these intervals cannot be inflated by a process
    being descheduled after it was admitted.
    """

    def __init__(self, inner: TokenStore) -> None:
        self.inner = inner
        self.admitted: list[tuple[float, float]] = []

    @property
    def default_clock(self):
        return self.inner.default_clock

    def verdict(self):
        return self.inner.verdict()

    def stamp(self, bucket):
        return self.inner.stamp(bucket)

    def use_clock(self, clock):
        self.inner.use_clock(clock)

    def check(self, algorithm, rates, now, weight):
        before = time.time()
        decision = self.inner.check(algorithm, rates, now, weight)
        if decision.allowed:
            self.admitted.append((before, time.time()))
        return decision

    def read(self, algorithm, rates):
        return self.inner.read(algorithm, rates)

    def reset(self):
        return self.inner.reset()

    def close(self):
        self.inner.close()
