"""The stop signal as one host sees it: a file that the first failure to stop the run creates.

First writer wins (an atomic ``link``); every process on the host checks it before each command,
while it waits for a token and while a command runs (one ``stat`` until it is set). The shell
mode's shim watches the same file by its path. How a stop reaches other hosts and other shards is
:mod:`.shared`'s business: it passes ``on_trigger``, called once when this file is created here.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class StopReason:
    nodeid: str  # the script that caused the stop
    cls: str  # its failure class, or "critical" / "maxfail" / "interrupted"
    message: str
    shard: str = ""  # the run group's shard that stopped, when the stop came from another shard

    def describe(self) -> str:
        where = f"shard {self.shard!r}: " if self.shard else ""
        return f"run stopped by {where}{self.nodeid} ({self.cls}): {self.message}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> StopReason | None:
        """The reason from its dict (a file, a channel, Redis); None if it is not one."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(str(data["nodeid"]), str(data["cls"]), str(data["message"]), str(data.get("shard") or ""))
        except KeyError:
            return None


class StopSignal:
    def __init__(self, path: str | os.PathLike, on_trigger: Callable[[StopReason], None] | None = None) -> None:
        self.path = Path(path)
        self.on_trigger = on_trigger
        self._reason: StopReason | None = None

    def __call__(self) -> bool:
        """True once the run has been told to stop (cheap: one stat until it is set)."""
        return self._reason is not None or self.path.exists()

    def trigger(self, reason: StopReason) -> bool:
        """Stop this host's processes. Returns False if another failure already stopped it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".stop-")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(reason.to_dict(), fh)
            os.link(tmp, self.path)  # atomic, and fails if the signal is already there
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
        if self.on_trigger is not None:
            self.on_trigger(reason)
        return True

    def stop_here(self, reason: StopReason) -> None:
        """Stop this process only (its file stays as it is): for a worker that lost its controller."""
        if self._reason is None:
            self._reason = reason

    def reason(self) -> StopReason | None:
        if self._reason is None:
            try:
                self._reason = StopReason.from_dict(json.loads(self.path.read_text()))
            except (OSError, ValueError):
                return None
        return self._reason
