"""The one interface :class:`~.bucket.TokenLimiter` drives its stores through: :class:`TokenStore`.

A ``TokenStore`` is pyrate-limiter's ``StateStore`` (``check``, ``read``, ``reset``, ``close``,
``default_clock``) with what a limiter deciding to the microsecond needs besides: the
:class:`Verdict` of the last ``check()`` (pyrate's ``Decision`` carries the wait rounded up to the
millisecond), the timestamp to put an item at, and the limiter's clock. The file store
(:mod:`.filestore`) and the Redis store (:mod:`.redisstore`) implement it; any other ``StateStore``
fits through :class:`StateStoreAdapter`.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from dataclasses import dataclass

from pyrate_limiter import AbstractClock, Decision, StateBucket, StateStore

__all__ = ["MicroClock", "StateStoreAdapter", "TokenStore", "Verdict", "clock_us"]


@dataclass(frozen=True)
class Verdict:
    """A store's last ``check()`` in this process, to the microsecond."""

    at: float  # seconds on the store's clock when the decision was taken
    #: seconds to wait from `at` before asking again; None: admitted (or, on a denial, never)
    retry_after: float | None

    @classmethod
    def of(cls, decision: Decision) -> Verdict:
        """pyrate's ``Decision``, taken now on the wall clock, its wait at whole milliseconds."""
        wait = decision.retry_after_ms
        return cls(time.time(), None if decision.allowed or wait is None else wait / 1000)


class MicroClock(AbstractClock):
    """A clock that reads microseconds (pyrate's ``now()`` is in milliseconds)."""

    @abstractmethod
    def now_us(self) -> int: ...

    def now(self) -> int:
        return self.now_us() // 1000


def clock_us(clock: AbstractClock) -> int:
    """Microseconds from ``clock``: a :class:`MicroClock`'s own, else pyrate's milliseconds."""
    return clock.now_us() if isinstance(clock, MicroClock) else int(clock.now()) * 1000


class TokenStore(StateStore):
    """A ``StateStore`` as :class:`~.bucket.TokenLimiter` uses it.

    The limiter serialises ``stamp()``, the bucket's ``put()`` (which calls ``check()``) and
    ``verdict()``, so a store keeps one verdict per instance.
    """

    @abstractmethod
    def verdict(self) -> Verdict | None:
        """The last ``check()``'s decision, exact; None before the first."""

    def stamp(self, bucket: StateBucket) -> int:
        """The timestamp (ms) to put the next item at: the bucket's clock."""
        return bucket.now()

    @abstractmethod
    def use_clock(self, clock: AbstractClock) -> None:
        """The limiter was given ``clock``: decide on it where the store reads a clock of its own."""


class StateStoreAdapter(TokenStore):
    """Any pyrate ``StateStore`` as a :class:`TokenStore`: it decides at the stamp, on the bucket's
    clock, and its verdict is pyrate's millisecond ``Decision``."""

    def __init__(self, inner: StateStore) -> None:
        self.inner = inner
        self.is_async = inner.is_async
        self.default_clock = inner.default_clock
        self._verdict: Verdict | None = None

    def verdict(self) -> Verdict | None:
        return self._verdict

    def use_clock(self, clock: AbstractClock) -> None:
        """Nothing to take: the inner store decides at the stamp, which the bucket reads from ``clock``."""

    def check(self, algorithm, rates, now, weight):
        decision = self.inner.check(algorithm, rates, now, weight)
        self._verdict = Verdict.of(decision)
        return decision

    def read(self, algorithm, rates):
        return self.inner.read(algorithm, rates)

    def reset(self):
        return self.inner.reset()

    def close(self) -> None:
        self.inner.close()
