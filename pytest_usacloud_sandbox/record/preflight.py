"""What the preflight found: the record behind the report's ``run.preflight``."""

from __future__ import annotations

from dataclasses import dataclass, field

from .fields import Seconds, computed, doc
from .vocabulary import PreflightCause

ARGV = ("auth-status", "-o", "json")
COMMAND = "usacloud " + " ".join(ARGV)


@dataclass(frozen=True)
class Preflight:
    """One read-only call (`usacloud auth-status -o json`) before any script, as a script's command."""

    cause: PreflightCause = field(metadata=doc("what it found"))
    message: str = field(metadata=doc("what the call showed, or what went wrong (masked, one line)"))
    version: str | None = field(metadata=doc("what `usacloud version` printed"))
    seconds: Seconds = field(default=0.0, metadata=doc("how long it took"))
    warning: str | None = field(default=None, metadata=doc("usacloud's version differs from the command table's"))
    hint: str | None = field(default=None, metadata=doc("what to do about a failure"))
    command: str = field(default=COMMAND, metadata=doc("the call"))

    @computed("it passed; false: the session ended before any script ran")
    def ok(self) -> bool:
        return self.cause == PreflightCause.OK

    def describe(self) -> str:
        """The summary's line."""
        version = f"usacloud {self.version}" if self.version else "usacloud version unknown"
        if self.ok:
            head = f"preflight: ok ({self.command}: {self.message}, {self.seconds:.1f}s) | {version}"
        else:
            head = f"preflight: failed ({self.cause}): {self.message} | {version}"
        return head + (f" | {self.warning}" if self.warning else "")

    def error_text(self) -> str:
        """The one message of a run the preflight ended."""
        text = f"usacloud preflight failed ({self.cause}): {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text + f"\n  no script was run ({self.command}, {self.version or 'usacloud version unknown'})"
