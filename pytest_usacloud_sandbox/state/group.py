"""A run group: separate pytest runs (CI shards) that share one stop signal through the run's Redis.

Every shard naming the same group (``--usacloud-run-group``) reads and writes one key: the first to
stop writes its reason (``SET NX``), and a thread in every other shard's controller polls the key and
stops its run with that reason. The key expires after :data:`TTL` seconds, so the name must be unique
per pipeline run (the CI's run id). Only ``stop`` crosses this :class:`~.links.Link`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable

from ..limit.redisstore import import_redis, redis_client
from .links import STOP, Link
from .stop import StopReason

KEY_PREFIX = "pytest-usacloud-sandbox:group:"
TTL = 24 * 3600  # seconds the stop of a group is kept
POLL = 0.2  # seconds between two reads of the group's stop
SOCKET_TIMEOUT = 2.0


def group_key(name: str) -> str:
    digest = hashlib.sha256(f"pytest-usacloud-sandbox/group/{name}".encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}{digest}:stop"


class RunGroup(Link):
    """This shard's membership: ``send(STOP, reason)`` publishes, ``on_stop`` hears the others."""

    def __init__(self, url: str, name: str, shard: str, on_stop: Callable[[StopReason], None], poll: float = POLL):
        self.name, self.shard = name, shard
        self.key = group_key(name)
        self._client = redis_client(url, SOCKET_TIMEOUT)
        self._errors = import_redis().exceptions.RedisError
        self._on_stop = on_stop
        self._poll = poll
        self._done = threading.Event()
        self._heard = False
        self._reads = 0
        self._thread = threading.Thread(target=self._watch, name="usacloud-run-group", daemon=True)

    def start(self) -> None:
        self._check()  # a shard that starts after the group stopped is stopped before it runs anything
        self._thread.start()

    def send(self, kind: str, payload: dict) -> None:
        if kind != STOP:
            return
        reason = StopReason.from_dict(payload)
        if reason is None:
            return
        if not reason.shard:
            reason = StopReason(reason.nodeid, reason.cls, reason.message, self.shard)
        try:
            self._client.set(self.key, json.dumps(reason.to_dict()), nx=True, ex=TTL)
        except self._errors:
            pass  # Redis is gone: the limiter reports that on every command; the shard still stops itself

    def stopped(self) -> StopReason | None:
        """The group's stop, if any shard set it (None if not, or if Redis cannot be read)."""
        try:
            data = self._client.get(self.key)
        except self._errors:
            return None
        self._reads += 1
        if data is None:
            return None
        try:
            return StopReason.from_dict(json.loads(data))
        except ValueError:
            return None

    @property
    def reads(self) -> int:
        """How many times this shard has read the group's stop (at the start, then every ``poll`` s)."""
        return self._reads

    def _check(self) -> None:
        reason = self.stopped()
        if reason is not None and not self._heard:
            self._heard = True
            if reason.shard != self.shard:
                self._on_stop(reason)

    def _watch(self) -> None:
        while not self._done.wait(self._poll) and not self._heard:
            self._check()

    def close(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=SOCKET_TIMEOUT + 1)
        try:
            self._client.close()
        except Exception:
            pass
