"""A pytest plugin for bench/per_script_overhead.py --profile: where each process's CPU time goes.

Loaded with ``-p _profile_plugin`` (bench/ on PYTHONPATH) first on the command line, so that it is
imported before the plugin under test; xdist forwards ``-p`` to every worker. Each process (the
controller, or a worker) notes its CPU time (``time.process_time``: every thread of the process,
unaffected by the other processes' load) at each phase boundary:

* ``start``: interpreter start-up, importing pytest and the plugins named before this one;
* ``configure``: the rest of the plugins' imports and every ``pytest_configure``, up to collection;
* ``collect``: collection (every worker collects every test);
* ``run``: ``pytest_runtestloop`` (a worker: running its tests and sending their reports; the
  controller: xdist's event loop, its reporting);
* ``finish``: the session's end and ``pytest_unconfigure``.

With ``BENCH_PROFILE=1`` each phase is also run under cProfile (this thread's CPU time as the
clock) and dumped next to the figures, for the per-function breakdown. Everything goes to
``$BENCH_PROFILE_DIR/<worker id or controller>.*``.

Not a test helper: nothing here is collected.
"""

from __future__ import annotations

import cProfile
import json
import os
import time
from pathlib import Path

import pytest

_MARKS: list[tuple[str, float]] = [("start", time.process_time())]  # bench-only: one process, one run
_PROFILES: dict[str, cProfile.Profile] = {}


def _directory() -> Path | None:
    directory = os.environ.get("BENCH_PROFILE_DIR")
    return Path(directory) if directory else None


def _begin(phase: str) -> None:
    if os.environ.get("BENCH_PROFILE") == "1" and _directory() is not None:
        profiler = _PROFILES[phase] = cProfile.Profile(time.thread_time)
        profiler.enable()


def _end(phase: str) -> None:
    profiler = _PROFILES.get(phase)
    if profiler is not None:
        profiler.disable()
    _MARKS.append((phase, time.process_time()))


_begin("configure")


def _name(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "controller"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection(session):
    _end("configure")
    _begin("collect")
    try:
        return (yield)
    finally:
        _end("collect")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtestloop(session):
    _begin("run")
    try:
        return (yield)
    finally:
        _end("run")
        _begin("finish")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    _end("finish")
    directory = _directory()
    if directory is None:
        return
    name = _name(config)
    phases, last = {}, 0.0
    for phase, at in _MARKS:
        phases[phase] = phases.get(phase, 0.0) + at - last
        last = at
    (directory / f"{name}.json").write_text(json.dumps(phases))
    for phase, profiler in _PROFILES.items():
        profiler.dump_stats(str(directory / f"{name}.{phase}.prof"))
