"""Where the bucket lives: ``--usacloud-rate-backend`` parsed into a :class:`Backend`.

Parsed once per configure (by :func:`pytest_usacloud_sandbox.settings.load`); everything after
that holds the :class:`Backend`, whose ``repr`` and :meth:`~Backend.masked` never show a Redis
password.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from ..usacloud.mask import mask_url

__all__ = ["CACHE_DIR_NAME", "Backend", "default_state_path", "parse_backend", "state_key"]

CACHE_DIR_NAME = "pytest-usacloud-sandbox"
#: The default state file's suffix (a binary record: see :mod:`.filestore`).
STATE_SUFFIX = ".bucket"
#: Query parameters a redis URL may carry (redis-py hands every other one to its connection class,
#: which fails on the first command with a TypeError): credentials and the database, plus TLS
#: settings for ``rediss://``. Timeouts and retries are the plugin's own (fail fast, bounded retry).
REDIS_QUERY = frozenset({"password", "username", "db"})
REDISS_QUERY = REDIS_QUERY | {"ssl_cert_reqs", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile"}


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
    return Path(cache) / CACHE_DIR_NAME / f"ratelimit-{state_key(env)}{STATE_SUFFIX}"


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

    def label(self) -> str:
        """For the summary and the report: ``file:PATH``, or the masked redis URL."""
        return self.masked() if self.kind == "redis" else f"file:{self.path}"

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
            raise ValueError("rate-limit backend 'file:' needs a path, e.g. file:/tmp/usacloud-ratelimit.bucket")
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
        _check_query(parts.scheme.lower(), parts.query, mask_url(spec.split("?", 1)[0]))
        return Backend("redis", url=spec)
    shown = "<redacted>" if "@" in spec or "password" in lowered else repr(spec)
    raise ValueError(
        f"unknown rate-limit backend {shown}: expected file:PATH, redis://[:password@]host:port/db or rediss://..."
    )


def _check_query(scheme: str, query: str, shown: str) -> None:
    """A query redis-py would pass on to its connection (``?x=1``) is a ValueError here, naming
    neither a value nor an unknown key (either could be a password written in the wrong place)."""
    allowed = REDISS_QUERY if scheme == "rediss" else REDIS_QUERY
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in allowed:
            what = f"{key!r}, a TLS setting for rediss://" if key in REDISS_QUERY else "a parameter it cannot take"
            raise ValueError(
                f"rate-limit backend {shown + '?...'!r}: the URL's query has {what}; "
                f"accepted: {', '.join(sorted(allowed))} (timeouts and retries are the plugin's own)"
            )
        if key == "db" and not value.isdigit():
            raise ValueError(f"rate-limit backend {shown + '?...'!r}: db= must be a number")
