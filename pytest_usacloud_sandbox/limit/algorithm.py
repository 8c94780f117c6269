"""The bucket's policy: pyrate-limiter's ``TokenBucket`` (GCRA), decided to the microsecond.

:class:`MicroTokenBucket` *is* a ``TokenBucket`` (same state, one TAT per rate; same ``step``
contract), for two reasons: pyrate 4.x decides in whole milliseconds and rounds waits up, which with
burst 1 loses about 0.5 ms a grant (1% of R at 20/s); and clamping or recovering a state needs the
emission interval, private in pyrate (``GCRA._emission_us``), public here (:meth:`~MicroTokenBucket.emission_us`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from pyrate_limiter import Decision, Rate, TokenBucket

State = tuple[int, ...]

__all__ = ["MicroTokenBucket", "State", "make_rate"]


def make_rate(rate: float, burst: int) -> Rate:
    """One pyrate ``Rate`` whose emission interval is ``1/rate`` s, rounded up to the microsecond.

    The emission interval in microseconds is ``ceil(interval * 1000 / limit)``; with ``limit=1000``
    it is exactly ``interval``, so the interval is handed over directly. (``limit=round(rate*1000)``
    over 1000 s would round 1/7 per second *up* to 0.143/s, i.e. admit too fast, and could not
    express rates below 0.0005/s.) Rates above 1e6/s saturate at 1 us a token.
    """
    emission_us = max(1, math.ceil(Fraction(10**6) / Fraction(rate)))
    return Rate(limit=1000, interval=emission_us, burst=burst)


class MicroTokenBucket(TokenBucket):
    """``TokenBucket`` (GCRA) on integer microseconds: ``TAT' = max(TAT, now) + weight * emission``,
    admitted while ``TAT' - burst * emission <= now``."""

    @staticmethod
    def emission_us(rate: Rate) -> int:
        """Microseconds per token, rounded up: a rate that does not divide evenly errs strict."""
        return max(1, -(-int(rate.interval) * 1000 // int(rate.limit)))

    def initial(self, rates: list[Rate]) -> State:
        return tuple(0 for _ in rates)  # "long past": the bucket is full

    def decide(self, rates: list[Rate], state: Sequence[int], now_us: int, weight: int) -> tuple[State, Decision, int]:
        """The GCRA step at ``now_us``: (state to keep, verdict, exact wait in us; 0 if admitted).

        A denial returns ``state`` unchanged (a rejected request spends nothing, under any rate).
        A weight above a rate's burst can never be admitted: its wait is -1.
        """
        advanced = []
        for rate, tat in zip(rates, state, strict=True):
            if weight > rate.burst:
                return tuple(state), Decision(failing_rate=rate), -1
            emission = self.emission_us(rate)
            new_tat = max(int(tat), now_us) + weight * emission
            allow_at = new_tat - rate.burst * emission
            if allow_at > now_us:
                wait_us = allow_at - now_us
                return tuple(state), Decision(failing_rate=rate, retry_after_ms=-(-wait_us // 1000)), wait_us
            advanced.append(new_tat)
        return tuple(advanced), Decision(), 0

    def step(self, rates: list[Rate], state: Sequence[int], now: int, weight: int) -> tuple[State, Decision]:
        """pyrate's interface: ``now`` in milliseconds, the wait rounded up to the millisecond. At whole
        milliseconds it answers exactly as pyrate's own ``TokenBucket.step`` (the tests check it on
        random traffic); the file and Redis stores call :meth:`decide` with their microsecond clock."""
        new_state, decision, _ = self.decide(rates, state, int(now) * 1000, weight)
        return new_state, decision

    def clamp(self, rates: list[Rate], state: Sequence[int], now_us: int) -> State:
        """Bound each TAT by ``now + burst * emission``: an empty bucket, no emptier.

        A TAT beyond that can only come from a clock that went backwards (or a foreign writer);
        left alone it would stall every worker until the clock catches up.
        """
        return tuple(
            min(int(tat), now_us + rate.burst * self.emission_us(rate)) for rate, tat in zip(rates, state, strict=True)
        )

    def exhausted(self, rates: list[Rate], now_us: int) -> State:
        """The state of a bucket emptied by a grant made at ``now_us``.

        What a store recovers a damaged state as: whatever was granted just before the damage, no
        window can then see more than the bound. With burst 1 it is exactly "a grant made now".
        """
        return tuple(now_us + rate.burst * self.emission_us(rate) for rate in rates)

    def consumed(self, rates: list[Rate], state: Sequence[int], now: int) -> int:
        now_us = int(now) * 1000
        return max(
            (-(-max(0, int(tat) - now_us) // self.emission_us(rate)) for rate, tat in zip(rates, state, strict=True)),
            default=0,
        )

    def redis_args(self, rates: list[Rate]) -> list[int | float]:
        return [value for rate in rates for value in (self.emission_us(rate), rate.burst)]
