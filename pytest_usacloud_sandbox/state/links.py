"""Transports between the processes of one run: the :class:`Link` interface and its execnet side.

A link carries small ``(kind, payload)`` messages; what they mean is :mod:`.shared`'s business. The
controller opens one extra channel per worker on the gateway xdist already has and hands it down in
``workerinput`` (execnet carries channels inside messages): the same ssh link, no server of our own,
and a channel's end tells a worker its controller is gone. Callbacks run in execnet's receiver thread:
they must be quick and must not raise. Redis, for run groups, is :mod:`.group`.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

HELLO = "hello"  # worker -> controller, once: {"visible": bool, "host": str}
STOP = "stop"  # either way: a StopReason as a dict
COUNTERS = "counters"  # worker -> controller: the worker's live counters
FAILURE = "failure"  # worker -> controller: {"reason": dict, "maxfail": int}, counted by the controller
CREATED = "created"  # worker -> controller: one entry of the run's journal of what it made

_END = ("end", None)  # what a channel's callback receives when it closes


class Link(ABC):
    """One way this process's state reaches the other processes of the run."""

    @abstractmethod
    def send(self, kind: str, payload: dict) -> None:
        """Best effort: a link that is gone drops the message."""

    @abstractmethod
    def close(self) -> None:
        """This process is done with the link; it sends nothing more."""


@runtime_checkable
class Channel(Protocol):
    """What the links use of an execnet channel."""

    def setcallback(self, callback: Callable[[Any], None], endmarker: Any = ...) -> None: ...

    def send(self, item: Any) -> None: ...

    def isclosed(self) -> bool: ...

    def close(self) -> None: ...


@runtime_checkable
class Gateway(Protocol):
    """What the links use of an execnet gateway (xdist's to a worker)."""

    def newchannel(self) -> Channel: ...


Receive = Callable[[str, dict], None]


def _send(channel: Channel, kind: str, payload: dict) -> None:
    try:
        if not channel.isclosed():
            channel.send((kind, payload))
    except Exception:  # OSError, execnet's closed-channel errors: the other side is gone
        pass


class WorkerChannel(Link):
    """A worker's end: messages up to the controller, the controller's down to ``receive``.

    ``lost`` is called once if the channel ends while the worker still runs (the controller
    crashed, or the ssh link broke).
    """

    def __init__(self, channel: Channel, receive: Receive, lost: Callable[[], None]) -> None:
        self.channel = channel
        self._receive = receive
        self._lost = lost
        self._closing = False
        channel.setcallback(self._on_message, endmarker=_END)

    def _on_message(self, message: Any) -> None:
        if message == _END:
            if not self._closing:
                self._lost()
            return
        kind, payload = _unpack(message)
        if kind:
            self._receive(kind, payload)

    def send(self, kind: str, payload: dict) -> None:
        _send(self.channel, kind, payload)

    def close(self) -> None:
        self._closing = True


class NodeChannels(Link):
    """The controller's ends: one channel per worker; ``receive(worker_id, kind, payload)``."""

    def __init__(self, receive: Callable[[str, str, dict], None]) -> None:
        self._receive = receive
        self._channels: dict[str, Channel] = {}
        self._lock = threading.Lock()

    def open(self, worker_id: str, gateway: Gateway) -> Channel:
        """A new channel on ``gateway`` for ``worker_id``, to hand down in its workerinput."""
        channel = gateway.newchannel()
        with self._lock:
            old = self._channels.pop(worker_id, None)  # a restarted worker gets a new channel
            self._channels[worker_id] = channel
        if old is not None:
            _close(old)
        channel.setcallback(lambda message: self._on_message(worker_id, message), endmarker=_END)
        return channel

    def _on_message(self, worker_id: str, message: Any) -> None:
        if message == _END:
            return
        kind, payload = _unpack(message)
        if kind:
            self._receive(worker_id, kind, payload)

    def send(self, kind: str, payload: dict) -> None:
        """To every worker."""
        with self._lock:
            channels = list(self._channels.values())
        for channel in channels:
            _send(channel, kind, payload)

    def drop(self, worker_id: str) -> None:
        with self._lock:
            channel = self._channels.pop(worker_id, None)
        if channel is not None:
            _close(channel)

    def close(self) -> None:
        with self._lock:
            channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            _close(channel)


def _unpack(message: Any) -> tuple[str, dict]:
    if isinstance(message, (tuple, list)) and len(message) == 2 and isinstance(message[1], dict):
        return str(message[0]), message[1]
    return "", {}


def _close(channel: Channel) -> None:
    try:
        channel.close()
    except Exception:
        pass
