"""Shared plumbing for the limiter benches (limiter_overhead, limiter_precision)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from ratecheck import RecordingStore

__all__ = ["RecordingStore", "backend_specs", "header", "load"]


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (5 min {five:.2f})"


def header() -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {load()}")


def backend_specs() -> list[str]:
    """A private state file, and the Redis of USACLOUD_TEST_REDIS_URL when there is one."""
    specs = [f"file:{Path(tempfile.mkdtemp(prefix='limiter-bench-')) / 'state.bucket'}"]
    if os.environ.get("USACLOUD_TEST_REDIS_URL"):
        specs.append(os.environ["USACLOUD_TEST_REDIS_URL"])
    else:
        print("(redis skipped: set USACLOUD_TEST_REDIS_URL to include it)")
    return specs
