"""The stop signal shared by every worker: a file in the run directory the controller created.

The first failure that stops the run writes the file (first writer wins); every worker checks it
before each command, while it waits for a token and while a command runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StopReason:
    nodeid: str  # the script that caused the stop
    cls: str  # its failure class, or "critical" / "maxfail"
    message: str

    def describe(self) -> str:
        return f"run stopped by {self.nodeid} ({self.cls}): {self.message}"


class StopSignal:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._reason: StopReason | None = None

    def __call__(self) -> bool:
        """True once the run has been told to stop (cheap: one stat until it is set)."""
        return self._reason is not None or self.path.exists()

    def trigger(self, reason: StopReason) -> bool:
        """Ask every worker to stop. Returns False if another failure already stopped the run."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".stop-")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(reason.__dict__, fh)
            os.link(tmp, self.path)  # atomic, and fails if the signal is already there
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)

    def reason(self) -> StopReason | None:
        if self._reason is None:
            try:
                data = json.loads(self.path.read_text())
                self._reason = StopReason(str(data["nodeid"]), str(data["cls"]), str(data["message"]))
            except (OSError, ValueError, KeyError, TypeError):
                return None
        return self._reason
