"""What one run of a usacloud process produced: the runners fill it, the outcome classifies it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, repr=False)
class RunResult:
    argv: tuple[str, ...]
    exit_code: int | None  # None when the process could not be started
    signal: int | None  # the signal that ended it, if any
    stdout: str  # the last TAIL_BYTES of standard output
    stderr: str  # the last TAIL_BYTES of standard error
    truncated: bool  # some output was dropped from the front
    started: float  # wall-clock start (time.time())
    ended: float
    duration: float  # seconds, monotonic
    pid: int | None = None
    timed_out: bool = False
    cancelled: bool = False
    launch_error: str | None = None  # why the process could not be started

    def __repr__(self) -> str:  # the output is unmasked (a trace prints the key): only its size
        return (
            f"RunResult(exit_code={self.exit_code}, signal={self.signal}, stdout={len(self.stdout)} chars, "
            f"stderr={len(self.stderr)} chars, timed_out={self.timed_out}, cancelled={self.cancelled})"
        )
