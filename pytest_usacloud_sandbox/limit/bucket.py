"""One token bucket shared by every xdist worker and every pytest run using the same API key.

Every usacloud command takes a token first. The bucket is pyrate-limiter's
``StateBucket`` running the ``TokenBucket`` (GCRA) policy; its state - one
timestamp - lives in a JSON file under a flock (one machine) or in Redis
(several machines). See :mod:`pytest_usacloud_sandbox.ratestore`.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit

from pyrate_limiter import (
    AbstractClock,
    Rate,
    RateItem,
    StateBucket,
    StateStore,
    TokenBucket,
)

from ..usacloud.mask import mask_url
from .store import (
    Cancelled,
    FileStateStore,
    LimiterUnavailable,
    RedisClock,
    RetryingRedisStateStore,
    import_redis,
    redis_client,
)

__all__ = [
    "AcquireResult",
    "Backend",
    "Cancelled",
    "FileStateStore",
    "LimiterUnavailable",
    "RedisClock",
    "TokenLimiter",
    "check_backend",
    "default_state_path",
    "make_rate",
    "open_store",
    "parse_backend",
    "state_key",
]

REDIS_KEY_PREFIX = "pytest-usacloud-sandbox:"
CACHE_DIR_NAME = "pytest-usacloud-sandbox"


@dataclass(frozen=True)
class AcquireResult:
    waited: float  # seconds handed to sleep() while waiting for the token
    attempts: int  # number of put() tries (0 when unlimited)
    granted_at: float | None = field(default=None, compare=False)  # clock reading the bucket admitted at


def make_rate(rate: float, burst: int) -> Rate:
    """One pyrate ``Rate`` whose GCRA emission interval is ``1/rate`` s, rounded up to the microsecond.

    GCRA computes ``ceil(interval_ms * 1000 / limit)`` microseconds per token;
    with ``limit=1000`` that is exactly ``interval_ms``, so we hand it the
    emission interval directly. (``limit=round(rate*1000)`` over 1000 s would
    round 1/7 per second *up* to 0.143/s, i.e. admit too fast, and cannot
    express rates below 0.0005/s.) Rates above 1e6/s saturate at 1 us/token.
    """
    emission_us = max(1, math.ceil(Fraction(10**6) / Fraction(rate)))
    return Rate(limit=1000, interval=emission_us, burst=burst)


class TokenLimiter:
    """Blocking ``acquire()`` of one token from a shared bucket.

    ``rate`` tokens per second refill a bucket holding ``burst``. Waiting is
    done here, outside any store lock, in slices of at most ``poll`` seconds so
    that ``should_stop`` is honoured promptly. ``rate=math.inf`` disables
    limiting entirely (the store is never touched).

    The clock defaults to the store's ``default_clock``: wall-clock time for
    :class:`FileStateStore`, the server's ``TIME`` for the Redis store. An
    explicit ``clock`` is handed to a store that has ``use_clock()`` (the file
    store re-reads the clock under its lock).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        store: StateStore,
        clock: AbstractClock | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        rate = float(rate)
        if math.isnan(rate) or rate <= 0:
            raise ValueError(f"rate must be > 0 tokens/s (or inf for unlimited), got {rate!r}")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be an integer >= 1, got {burst!r}")
        self.rate = rate
        self.burst = burst
        self.store = store
        self._sleep = sleep
        self._lock = threading.Lock()  # put() and waiting() share the bucket's last-decision slot
        self.bucket: StateBucket | None = None
        if not math.isinf(rate):
            if clock is not None and hasattr(store, "use_clock"):
                store.use_clock(clock)  # a store that re-reads the clock must read the same one
            self.bucket = StateBucket([make_rate(rate, burst)], TokenBucket(), store, clock)

    @property
    def unlimited(self) -> bool:
        return self.bucket is None

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
            with self._lock:
                stamp = int(time.time() * 1000) if getattr(self.store, "stamps_ignored", False) else bucket.now()
                item = RateItem("usacloud", stamp, 1)
                attempts += 1
                if bucket.put(item):
                    granted = getattr(self.store, "admitted_at", None) or time.time()
                    return AcquireResult(waited=waited, attempts=attempts, granted_at=granted)
                wait_ms = bucket.waiting(item)
            if wait_ms < 0:  # weight 1 never exceeds burst >= 1
                raise RuntimeError(f"token bucket {bucket.rates} can never admit a token")
            remaining = max(wait_ms, 1) / 1000
            while remaining > 1e-9:
                step = min(poll, remaining)
                self._sleep(step)
                waited += step
                remaining -= step
                if should_stop is not None and should_stop():
                    raise Cancelled(f"stopped while waiting for a rate-limit token (after {waited:.2f}s)")

    def close(self) -> None:
        if self.bucket is not None:
            self.bucket.close()
        else:
            self.store.close()


# -- where the state lives ---------------------------------------------------------


def _first(env: Mapping[str, str], *names: str) -> str:
    for name in names:
        value = env.get(name)
        if value:
            return value
    return ""


def state_key(env: Mapping[str, str]) -> str:
    """Short, non-reversible name for the bucket: one per API key (or per profile)."""
    token = _first(env, "SAKURACLOUD_ACCESS_TOKEN", "SAKURA_ACCESS_TOKEN")
    if token:
        kind, value = "token", token
    else:
        kind, value = "profile", _first(env, "SAKURACLOUD_PROFILE", "SAKURA_PROFILE", "USACLOUD_PROFILE") or "default"
    digest = hashlib.sha256(f"pytest-usacloud-sandbox/{kind}/{value}".encode()).hexdigest()
    return f"{kind}-{digest[:16]}"


def default_state_path(env: Mapping[str, str]) -> Path:
    cache = env.get("XDG_CACHE_HOME", "")
    if not cache or not os.path.isabs(cache):  # the XDG spec says to ignore relative paths
        home = env.get("HOME") or str(Path.home())
        cache = os.path.join(home, ".cache")
    return Path(cache) / CACHE_DIR_NAME / f"ratelimit-{state_key(env)}.json"


@dataclass(frozen=True, repr=False)
class Backend:
    kind: str  # "file" | "redis"
    path: Path | None = None
    url: str | None = None

    def masked(self) -> str:
        """For output: the path, or the redis URL with any password replaced by ***."""
        if self.kind == "redis":
            return mask_url(self.url or "")
        return str(self.path)

    def __repr__(self) -> str:  # never let a password reach a traceback or log
        return f"Backend(kind={self.kind!r}, target={self.masked()!r})"


def parse_backend(spec: str | None, env: Mapping[str, str]) -> Backend:
    """``None``/"" -> default file; ``file:PATH``; ``redis://...``/``rediss://...``. ValueError otherwise."""
    spec = (spec or "").strip()
    if not spec:
        return Backend("file", path=default_state_path(env))
    lowered = spec.lower()
    if lowered.startswith("file:"):
        raw = spec[len("file:") :]
        if not raw:
            raise ValueError("rate-limit backend 'file:' needs a path, e.g. file:/tmp/usacloud-ratelimit.json")
        return Backend("file", path=Path(os.path.expanduser(raw)).absolute())
    if lowered.startswith(("redis://", "rediss://")):
        shown = mask_url(spec)
        try:
            parts = urlsplit(spec)
            parts.port  # noqa: B018 - validates the port
        except ValueError:
            raise ValueError(f"rate-limit backend {shown!r}: invalid redis URL (host, port or password)") from None
        if not parts.hostname:
            raise ValueError(f"rate-limit backend {shown!r}: the redis URL has no host")
        db = parts.path.lstrip("/")
        if db and not db.isdigit():
            raise ValueError(f"rate-limit backend {shown!r}: the database must be a number, e.g. redis://host:6379/0")
        return Backend("redis", url=spec)
    shown = "<redacted>" if "@" in spec or "password" in lowered else repr(spec)
    raise ValueError(
        f"unknown rate-limit backend {shown}: expected file:PATH, redis://[:password@]host:port/db or rediss://..."
    )


def open_store(
    backend: Backend,
    env: Mapping[str, str],
    on_warning: Callable[[str], None] | None = None,
    *,
    lock_timeout: float = 10.0,
    retry_window: float = 10.0,
    socket_timeout: float = 2.0,
) -> StateStore:
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
