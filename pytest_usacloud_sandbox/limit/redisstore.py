"""The bucket's state in Redis, shared by every machine: :class:`RetryingRedisStateStore`.

``import_redis`` and ``redis_client`` are the one place the plugin connects to Redis.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar

from pyrate_limiter import AbstractClock, Decision, StateBucket

from .algorithm import MicroTokenBucket
from .errors import LimiterUnavailable
from .store import MicroClock, TokenStore, Verdict

T = TypeVar("T")


def import_redis() -> Any:
    try:
        import redis
    except ImportError as exc:
        raise LimiterUnavailable(
            "the redis rate-limit backend needs the 'redis' package: pip install 'pytest-usacloud-sandbox[redis]'"
        ) from exc
    return redis


def redis_client(url: str, socket_timeout: float) -> Any:
    """A client whose every call fails fast: retries are the store's business."""
    redis = import_redis()
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        retry=Retry(NoBackoff(), 0),
    )


class RedisClock(MicroClock):
    """The Redis server's ``TIME``: one clock for every machine."""

    def __init__(self, client: Any, call: Callable[..., Any] | None = None) -> None:
        self._client = client
        self._call = call or (lambda fn, *args: fn(*args))

    def now_us(self) -> int:
        seconds, micros = self._call(self._client.time)
        return int(seconds) * 1_000_000 + int(micros)


#: The GCRA step of :class:`MicroTokenBucket` over one hash per key, fields tat1..tatN in integer
#: microseconds (pyrate's own layout, so ``RedisStateStore.read()`` still works), decided at the
#: server's ``TIME`` when the script runs.
#: ARGV: now_ms (ignored), weight, ttl_ms, n, then (emission_us, burst) per rate.
#: Replies {-1, server now in us} when admitted, else {failing rate index, exact wait in us (-1: never)}.
GCRA_SERVER_TIME_LUA = """
-- The caller's stamp (ARGV[1]) is ignored: the decision is taken at the
-- server's time now, so neither a stale stamp nor a skewed client matters.
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local weight, ttl, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tats, dirty = {}, false
for i = 1, n do
    local emission, burst = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
    local empty = now_us + burst * emission
    local raw = redis.call('HGET', KEYS[1], 'tat' .. i)
    local tat = tonumber(raw)
    if raw and not tat then
        -- a damaged value: recovered as a bucket emptied by a grant made now (no burst)
        tat, dirty = empty, true
    end
    tat = math.max(tat or now_us, now_us)
    if tat > empty then
        -- beyond an empty bucket: a clock that went backwards, or a foreign writer
        tat, dirty = empty, true
    end
    tats[i] = tat
end
local function store(values)
    for i = 1, n do
        -- %.0f: tostring() would print a 16-digit integer in exponent form
        redis.call('HSET', KEYS[1], 'tat' .. i, string.format('%.0f', values[i]))
    end
    redis.call('PEXPIRE', KEYS[1], ttl)
end
local advanced = {}
for i = 1, n do
    local emission, burst = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
    if weight > burst then
        return {i - 1, -1}
    end
    advanced[i] = tats[i] + weight * emission
    local allow_at = advanced[i] - burst * emission
    if allow_at > now_us then
        if dirty then
            store(tats)
        end
        return {i - 1, allow_at - now_us}
    end
end
store(advanced)
return {-1, now_us}
"""


class RetryingRedisStateStore(TokenStore):
    """pyrate-limiter's ``RedisStateStore`` with bounded retries and the server's clock.

    Timestamps come from the server (``TIME``), so clock skew between machines cannot loosen the
    bound; :class:`MicroTokenBucket`'s step runs as this module's Lua script, which reads ``TIME``
    when it executes (the caller's stamp is ignored) and answers the exact wait in microseconds. A
    damaged stored value is recovered as an empty bucket, as the file store does. Any other
    ``StateAlgorithm`` goes to pyrate's ``RedisStateStore`` as it is.

    Connection errors and timeouts are retried with backoff for ``retry_window`` seconds (per
    operation), then raise :class:`LimiterUnavailable` naming only the masked URL. A single
    attempt can overrun the window by at most the socket timeout.
    """

    is_async = False

    def __init__(
        self,
        client: Any,
        key: str,
        *,
        retry_window: float = 10.0,
        display_url: str = "redis",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from pyrate_limiter import RedisStateStore

        self.client = client
        self.key = key
        self.retry_window = float(retry_window)
        self.display_url = display_url
        self._sleep = sleep
        self._inner = RedisStateStore(client, key)
        self._script = client.register_script(GCRA_SERVER_TIME_LUA)
        self.default_clock = RedisClock(client, self._call)
        self._verdict: Verdict | None = None

    def verdict(self) -> Verdict | None:
        return self._verdict

    def stamp(self, bucket: StateBucket) -> int:
        """The local wall clock: the script ignores the stamp, and RedisClock would cost a round trip."""
        return int(time.time() * 1000)

    def use_clock(self, clock: AbstractClock) -> None:
        """Nothing to take: every ``check()`` decides at the server's ``TIME``, whatever the caller's clock."""

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        redis = import_redis()
        retryable = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        deadline = time.monotonic() + self.retry_window
        delay = 0.05
        while True:
            try:
                return fn(*args)
            except retryable as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LimiterUnavailable(
                        f"rate-limit redis {self.display_url} unreachable for {self.retry_window:g}s: {exc}"
                    ) from exc
                self._sleep(min(delay, remaining))
                delay = min(delay * 2, 1.0)
            except redis.exceptions.RedisError as exc:  # NOAUTH, wrong db, READONLY...: retrying will not help
                raise LimiterUnavailable(f"rate-limit redis {self.display_url} refused: {exc}") from exc

    def check(self, algorithm, rates, now, weight):
        if not isinstance(algorithm, MicroTokenBucket):
            decision = self._call(self._inner.check, algorithm, rates, now, weight)
            self._verdict = Verdict.of(decision)
            return decision
        emissions = [algorithm.emission_us(rate) for rate in rates]
        ttl_ms = max(
            math.ceil(2 * rate.burst * emission / 1000) for rate, emission in zip(rates, emissions, strict=True)
        )
        args: list = [int(now), int(weight), max(1, ttl_ms), len(rates)]
        for rate, emission in zip(rates, emissions, strict=True):
            args += [emission, rate.burst]
        index, value = (int(part) for part in self._call(self._script, [self.key], args))
        if index < 0:  # on admission the script returns the server's TIME (us)
            self._verdict = Verdict(value / 1e6, None)
            return Decision()
        # The wait counts from the server's decision; this process learns of it half a round
        # trip later, which is the only lateness left.
        self._verdict = Verdict(time.time(), None if value < 0 else value / 1e6)
        return Decision(failing_rate=rates[index], retry_after_ms=None if value < 0 else -(-value // 1000))

    def read(self, algorithm, rates):
        return self._call(self._inner.read, algorithm, rates)

    def reset(self) -> None:
        self._call(self._inner.reset)

    def close(self) -> None:
        with suppress(Exception):
            self.client.close()
