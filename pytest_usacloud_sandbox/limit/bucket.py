"""One token bucket shared by every xdist worker and every pytest run using the same API key.

Every usacloud command takes a token first. The bucket is pyrate-limiter's ``StateBucket`` running
the ``TokenBucket`` (GCRA) policy - as :class:`~.algorithm.MicroTokenBucket`, which decides to the
microsecond - and its state, one timestamp per rate, lives in a small file under a flock (one machine,
:mod:`.filestore`) or in Redis (several machines, :mod:`.redisstore`), both behind :mod:`.store`;
where is a :class:`~.backend.Backend`.
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pyrate_limiter import AbstractClock, RateItem, StateBucket

from .algorithm import MicroTokenBucket, make_rate
from .backend import Backend, default_state_path, parse_backend, state_key
from .errors import Cancelled, LimiterUnavailable
from .filestore import FileStateStore
from .redisstore import RedisClock, RetryingRedisStateStore, import_redis, redis_client
from .store import StateStoreAdapter, TokenStore

__all__ = [
    "AcquireResult",
    "Backend",
    "Cancelled",
    "FileStateStore",
    "LimiterUnavailable",
    "MicroTokenBucket",
    "RedisClock",
    "StateStoreAdapter",
    "TokenLimiter",
    "TokenStore",
    "check_backend",
    "default_state_path",
    "make_rate",
    "open_store",
    "parse_backend",
    "state_key",
]

REDIS_KEY_PREFIX = "pytest-usacloud-sandbox:"


@dataclass(frozen=True)
class AcquireResult:
    waited: float  # seconds handed to sleep() while waiting for the token
    attempts: int  # number of put() tries (0 when unlimited)
    granted_at: float | None = field(default=None, compare=False)  # clock reading the bucket admitted at


class TokenLimiter:
    """Blocking ``acquire()`` of one token from a shared bucket.

    ``rate`` tokens per second refill a bucket holding ``burst``. Waiting is done here, outside
    any store lock, in slices of at most ``poll`` seconds so that ``should_stop`` is honoured
    promptly. ``rate=math.inf`` disables limiting entirely (the store is never touched).

    The store is a :class:`~.store.TokenStore` (a plain pyrate ``StateStore`` goes in a
    :class:`~.store.StateStoreAdapter`): its verdict gives the exact wait. The clock defaults to
    the store's ``default_clock``: wall-clock time for :class:`FileStateStore`, the server's
    ``TIME`` for the Redis store; an explicit ``clock`` is handed to the store as well
    (``use_clock``: the file store re-reads the clock under its lock).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        store: TokenStore,
        clock: AbstractClock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        rate = float(rate)
        if math.isnan(rate) or rate <= 0:
            raise ValueError(f"rate must be > 0 tokens/s (or inf for unlimited), got {rate!r}")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be an integer >= 1, got {burst!r}")
        if not isinstance(store, TokenStore):
            raise TypeError(
                f"store must be a TokenStore (wrap a pyrate StateStore in StateStoreAdapter), got {store!r}"
            )
        self.rate = rate
        self.burst = burst
        self.store = store
        self._sleep = sleep
        # A wait of several slices ends at its deadline on this clock (each slice may overrun a
        # little); with another sleep() and no clock, the slices are simply added up.
        self._monotonic = monotonic or (time.monotonic if sleep is time.sleep else None)
        self._lock = threading.Lock()  # put() and the store's verdict belong together
        self.bucket: StateBucket | None = None
        if not math.isinf(rate):
            if clock is not None:
                store.use_clock(clock)  # a store that re-reads the clock must read the same one
            self.bucket = StateBucket([make_rate(rate, burst)], MicroTokenBucket(), store, clock)

    @property
    def unlimited(self) -> bool:
        return self.bucket is None

    def _attempt(self, bucket: StateBucket) -> tuple[bool, float]:
        """One put(): (admitted, clock reading of the admission | seconds to wait; < 0: never)."""
        store = self.store
        with self._lock:
            admitted = bucket.put(RateItem("usacloud", store.stamp(bucket), 1))
            verdict = store.verdict()
        assert verdict is not None, f"{type(store).__name__}.check() left no verdict"
        if admitted:
            return True, verdict.at
        return False, -1.0 if verdict.retry_after is None else verdict.retry_after

    def acquire(self, should_stop: Callable[[], object] | None = None, poll: float = 0.05) -> AcquireResult:
        """Block until a token is taken. Raises :class:`Cancelled` or :class:`LimiterUnavailable`."""
        bucket = self.bucket
        if bucket is None:
            return AcquireResult(waited=0.0, attempts=0)
        if not poll > 0:
            raise ValueError(f"poll must be > 0 seconds, got {poll!r}")
        waited, attempts = 0.0, 0
        while True:
            if should_stop is not None and should_stop():
                raise Cancelled(f"stopped while waiting for a rate-limit token (after {waited:.2f}s)")
            attempts += 1
            admitted, value = self._attempt(bucket)
            if admitted:
                return AcquireResult(waited=waited, attempts=attempts, granted_at=value)
            if value < 0:  # weight 1 never exceeds burst >= 1
                raise RuntimeError(f"token bucket {bucket.rates} can never admit a token")
            clock, remaining = self._monotonic, value
            deadline = clock() + value if clock is not None else 0.0
            while remaining > 0:
                step = min(poll, remaining)
                self._sleep(step)
                waited += step
                remaining = deadline - clock() if clock is not None else remaining - step
                if should_stop is not None and should_stop():
                    raise Cancelled(f"stopped while waiting for a rate-limit token (after {waited:.2f}s)")

    def close(self) -> None:
        if self.bucket is not None:
            self.bucket.close()
        else:
            self.store.close()


def open_store(
    backend: Backend,
    env: Mapping[str, str],
    on_warning: Callable[[str], None] | None = None,
    *,
    lock_timeout: float = 10.0,
    retry_window: float = 10.0,
    socket_timeout: float = 2.0,
) -> TokenStore:
    """The store behind ``backend``. Redis: server clock, retries bounded by ``retry_window`` seconds."""
    if backend.kind == "file":
        assert backend.path is not None
        return FileStateStore(backend.path, lock_timeout=lock_timeout, on_warning=on_warning)
    if backend.kind == "redis":
        assert backend.url is not None
        client = redis_client(backend.url, socket_timeout)
        return RetryingRedisStateStore(
            client, f"{REDIS_KEY_PREFIX}{state_key(env)}", retry_window=retry_window, display_url=backend.masked()
        )
    raise ValueError(f"unknown backend kind {backend.kind!r}")


def check_backend(backend: Backend, env: Mapping[str, str], *, socket_timeout: float = 2.0) -> None:
    """Fail early (LimiterUnavailable, masked) if the backend cannot be used."""
    if backend.kind == "redis":
        redis = import_redis()
        client = redis_client(backend.url or "", socket_timeout)
        try:
            client.ping()
        except redis.exceptions.RedisError as exc:
            raise LimiterUnavailable(f"cannot reach the rate-limit redis at {backend.masked()}: {exc}") from None
        finally:
            client.close()
        return
    assert backend.path is not None
    directory = backend.path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if backend.path.is_dir():
            raise IsADirectoryError(f"{backend.path} is a directory")
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise LimiterUnavailable(f"rate-limit state {backend.path} cannot be used: {exc}") from None
