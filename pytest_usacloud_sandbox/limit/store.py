"""Shared token-bucket state stores: a JSON file under a flock, or Redis.

Both implement pyrate-limiter's ``StateStore`` so a ``StateBucket`` running the
``TokenBucket`` (GCRA) policy can keep its one number per rate in them. The
public names are re-exported by :mod:`pytest_usacloud_sandbox.ratelimit`.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import filelock
from pyrate_limiter import GCRA, AbstractClock, Decision, StateStore, WallClock

from ..state.atomicfile import atomic_write

T = TypeVar("T")

#: Bumped if the file layout ever changes; an unknown version reads as corrupt.
STATE_VERSION = 1

#: How often a waiter retries a contended file lock. filelock's default (50 ms)
#: would dominate acquire latency when several workers contend for a lock held
#: for well under a millisecond.
LOCK_POLL_INTERVAL = 0.001


class LimiterUnavailable(Exception):
    """The shared rate-limit state cannot be reached (lock timeout, redis down, ...)."""


class Cancelled(Exception):
    """An acquire stopped because ``should_stop()`` returned truthy."""


def _new_file_lock(path: Path, timeout: float) -> filelock.BaseFileLock:
    # A soft (marker-file) lock would survive a SIGKILLed holder and wedge every
    # other worker, so refuse filelock's soft fallback on flock-less filesystems.
    try:
        return filelock.FileLock(path, timeout=timeout, poll_interval=LOCK_POLL_INTERVAL, fallback_to_soft=False)
    except TypeError:  # filelock < 3.30: no soft fallback to refuse
        return filelock.FileLock(path, timeout=timeout)


def clamp_state(algorithm: Any, rates: list, state: tuple, now_ms: int) -> tuple:
    """Bound each GCRA theoretical-arrival-time to ``now + burst * emission``.

    A TAT beyond that can only come from a clock that went backwards (or a
    foreign writer); left alone it would stall every worker until the clock
    catches up. Clamped, the bucket simply reads as empty.
    """
    if not isinstance(algorithm, GCRA):
        return state
    now_us = now_ms * 1000
    return tuple(
        min(int(tat), now_us + rate.burst * algorithm._emission_us(rate))
        for rate, tat in zip(rates, state, strict=True)
    )


class FileStateStore(StateStore):
    """Bucket state in a small JSON file shared by every process on the machine.

    ``check()`` is a read-modify-write under ``filelock.FileLock(path + '.lock')``
    (an ``fcntl.flock``, released by the kernel if the holder dies) and the file
    is rewritten by atomic replace, so readers never see a partial file. Nothing
    sleeps while the lock is held. The decision uses ``clock`` (wall-clock time
    by default: the state outlives processes) read while the lock is held.
    """

    is_async = False
    #: The state outlives processes (and reboots), so it must be wall-clock time.
    default_clock: AbstractClock = WallClock()
    admitted_at: float | None = None  # seconds: the clock reading of the last admission

    def __init__(
        self,
        path: str | os.PathLike,
        lock_timeout: float = 10.0,
        on_warning: Callable[[str], None] | None = None,
        *,
        clock: AbstractClock | None = None,
    ) -> None:
        if not lock_timeout > 0:
            raise ValueError(f"lock_timeout must be > 0, got {lock_timeout!r}")
        self.path = Path(os.fspath(path))
        self.lock_path = Path(os.fspath(path) + ".lock")
        self.lock_timeout = float(lock_timeout)
        self._on_warning = on_warning
        self._warned = False
        if clock is not None:
            self.default_clock = clock
        self._pid: int | None = None
        self._thread_lock = threading.Lock()
        self._file_lock: filelock.BaseFileLock | None = None

    def use_clock(self, clock: AbstractClock) -> None:
        """Take the limiter's clock: ``check()`` re-reads it under the lock, so both must agree."""
        self.default_clock = clock

    # -- pickling / fork: locks are per process --------------------------------

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.update(_pid=None, _thread_lock=None, _file_lock=None)
        return state

    def _locks(self) -> tuple[threading.Lock, filelock.BaseFileLock]:
        pid = os.getpid()
        if self._pid != pid or self._file_lock is None or self._thread_lock is None:
            # filelock refuses an instance inherited across fork; a parent's
            # thread lock may have been copied while held.
            self._thread_lock = threading.Lock()
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LimiterUnavailable(f"rate-limit state {self.path}: cannot create its directory: {exc}") from exc
            self._file_lock = _new_file_lock(self.lock_path, self.lock_timeout)
            self._pid = pid
        return self._thread_lock, self._file_lock

    @contextmanager
    def _locked(self) -> Iterator[None]:
        thread_lock, file_lock = self._locks()
        start = time.monotonic()
        if not thread_lock.acquire(timeout=self.lock_timeout):
            raise LimiterUnavailable(
                f"rate-limit state {self.path}: in-process lock not acquired within {self.lock_timeout:g}s"
            )
        try:
            try:
                file_lock.acquire(timeout=max(0.0, self.lock_timeout - (time.monotonic() - start)))
            except filelock.Timeout:
                raise LimiterUnavailable(
                    f"rate-limit state {self.path}: lock {self.lock_path} not acquired within {self.lock_timeout:g}s"
                ) from None
            except OSError as exc:
                raise LimiterUnavailable(f"rate-limit state {self.path}: cannot lock {self.lock_path}: {exc}") from exc
            try:
                yield
            finally:
                file_lock.release()
        finally:
            thread_lock.release()

    # -- file I/O -----------------------------------------------------------------

    def _warn(self, message: str) -> None:
        if self._warned:
            return
        self._warned = True
        if self._on_warning is not None:
            self._on_warning(message)

    def _load(self, algorithm: Any, rates: list) -> tuple:
        fresh = algorithm.initial(rates)
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return fresh
        except OSError as exc:
            self._warn(f"rate-limit state file {self.path} is unreadable ({exc}); starting with a fresh bucket")
            return fresh
        try:
            data = json.loads(raw)
            tat = data["tat"]
            if (
                not isinstance(data, dict)
                or data.get("version") != STATE_VERSION
                or not isinstance(tat, list)
                or len(tat) != len(rates)
                or not all(_is_timestamp(value) for value in tat)
            ):
                raise ValueError("unexpected layout")
        except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
            what = "is empty" if not raw.strip() else f"is corrupt ({exc})"
            self._warn(f"rate-limit state file {self.path} {what}; starting with a fresh bucket")
            return fresh
        return tuple(int(value) for value in tat)

    def _save(self, state: tuple) -> None:
        payload = json.dumps({"version": STATE_VERSION, "tat": [int(value) for value in state]})
        try:
            with atomic_write(self.path, encoding="ascii") as handle:
                handle.write(payload)
        except OSError as exc:
            raise LimiterUnavailable(f"rate-limit state file {self.path} cannot be written: {exc}") from exc

    # -- StateStore ---------------------------------------------------------------

    def check(self, algorithm, rates, now, weight):
        with self._locked():
            # `now` was stamped before the lock was won. A stamp gone stale
            # (queued behind other holders, or descheduled) would let this
            # caller spend a token "in the past" - a burst in real time - so
            # decide at the time the lock is actually held.
            now = max(int(now), int(self.default_clock.now()))
            loaded = self._load(algorithm, rates)
            state = clamp_state(algorithm, rates, loaded, now)
            new_state, decision = algorithm.step(rates, state, now, weight)
            # A denial leaves the state as it was - but a clamp must stick, or
            # every retry would clamp the far-future value again and wait anew.
            if decision.allowed or state != loaded:
                self._save(new_state)
            if decision.allowed:
                self.admitted_at = now / 1000  # the clock reading the decision was taken at
            return decision

    def read(self, algorithm, rates):
        # Replaced atomically, so an unlocked read sees some complete version.
        return self._load(algorithm, rates)

    def reset(self) -> None:
        with self._locked(), suppress(FileNotFoundError):
            self.path.unlink()

    def close(self) -> None:
        self._file_lock = None
        self._pid = None


def _is_timestamp(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


# -- Redis ------------------------------------------------------------------------


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


class RedisClock(AbstractClock):
    """Milliseconds from the Redis server's ``TIME``: one clock for every machine."""

    def __init__(self, client: Any, call: Callable[..., Any] | None = None) -> None:
        self._client = client
        self._call = call or (lambda fn, *args: fn(*args))

    def now(self) -> int:
        seconds, micros = self._call(self._client.time)
        return int(seconds) * 1000 + int(micros) // 1000


#: GCRA over one hash per key, fields tat1..tatN in integer microseconds (the
#: layout of pyrate's own script, so ``RedisStateStore.read()`` still works).
#: ARGV: now_ms (unused), weight, ttl_ms, n, then (emission_us, burst) per rate.
#: Replies {-1, 0} when admitted, else {failing rate index, retry ms (-1: never)}.
GCRA_SERVER_TIME_LUA = """
-- The caller's stamp (ARGV[1]) is ignored: the decision is taken at the
-- server's time now, so neither a stale stamp nor a skewed client matters.
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local weight, ttl, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tats, clamped = {}, false
for i = 1, n do
    local emission, burst = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
    local tat = tonumber(redis.call('HGET', KEYS[1], 'tat' .. i)) or now_us
    tat = math.max(tat, now_us)
    if tat > now_us + burst * emission then
        tat, clamped = now_us + burst * emission, true
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
        if clamped then
            store(tats)
        end
        return {i - 1, math.ceil((allow_at - now_us) / 1000)}
    end
end
store(advanced)
return {-1, now_us}
"""


class RetryingRedisStateStore(StateStore):
    """pyrate-limiter's ``RedisStateStore`` with bounded retries and the server's clock.

    Timestamps come from the server (``TIME``), so clock skew between machines
    cannot loosen the bound; the GCRA step runs as our own Lua script that
    re-reads ``TIME`` when it executes.

    Connection errors and timeouts are retried with backoff for ``retry_window``
    seconds (per operation), then raise :class:`LimiterUnavailable` naming only
    the masked URL. A single attempt can overrun the window by at most the
    socket timeout.
    """

    admitted_at: float | None = None  # seconds, server time, of the last admission
    #: The Lua script decides at the server's TIME and ignores the caller's stamp: stamping an item
    #: through RedisClock would cost a round trip per attempt for nothing.
    stamps_ignored = True

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
        if not isinstance(algorithm, GCRA):
            return self._call(self._inner.check, algorithm, rates, now, weight)
        # Same transition as pyrate's GCRA script, but decided at the server's
        # TIME when the script runs (a stamp goes stale between TIME and
        # EVALSHA if this process is descheduled) and with far-future TATs
        # clamped, as the file store does.
        emissions = [algorithm._emission_us(rate) for rate in rates]
        ttl_ms = max(
            math.ceil(2 * rate.burst * emission / 1000) for rate, emission in zip(rates, emissions, strict=True)
        )
        args: list = [int(now), int(weight), max(1, ttl_ms), len(rates)]
        for rate, emission in zip(rates, emissions, strict=True):
            args += [emission, rate.burst]
        index, retry_ms = (int(value) for value in self._call(self._script, [self.key], args))
        if index < 0:
            self.admitted_at = retry_ms / 1e6  # on admission the script returns the server's TIME (us)
            return Decision()
        return Decision(failing_rate=rates[index], retry_after_ms=None if retry_ms < 0 else retry_ms)

    def read(self, algorithm, rates):
        return self._call(self._inner.read, algorithm, rates)

    def reset(self) -> None:
        self._call(self._inner.reset)

    def close(self) -> None:
        with suppress(Exception):
            self.client.close()
