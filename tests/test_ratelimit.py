"""Unit tests for the shared token bucket (pytest_usacloud_sandbox.limit).

Timing tests assert on counts: admissions per time window (with an explicit jitter allowance),
sleep slices, attempts - never on raw speed (that is bench/limiter_*.py).
"""

from __future__ import annotations

import fcntl
import functools
import json
import math
import multiprocessing as mp
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis_tools
from pyrate_limiter import InMemoryStateStore, Rate, TokenBucket
from ratecheck import GRANT_JITTER, JITTER, RecordingStore, worst_window
from redis_tools import private_redis
from standin_tools import wait_until

from pytest_usacloud_sandbox.limit.bucket import (
    AcquireResult,
    Backend,
    Cancelled,
    FileStateStore,
    LimiterUnavailable,
    MicroTokenBucket,
    RedisClock,
    StateStoreAdapter,
    TokenLimiter,
    check_backend,
    default_state_path,
    make_rate,
    open_store,
    parse_backend,
    state_key,
)
from pytest_usacloud_sandbox.limit.filestore import RECORD_SIZE, DamagedRecord, decode_record, encode_record
from pytest_usacloud_sandbox.limit.redisstore import RetryingRedisStateStore
from pytest_usacloud_sandbox.limit.store import MicroClock

REDIS_URL = redis_tools.SHARED_URL


def needs_redis(test):
    """Run with the shared Redis; skip loudly without it (fail in CI, see redis_tools)."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        redis_tools.shared_url()
        return test(*args, **kwargs)

    return wrapper


FORK = mp.get_context("fork")


class FakeTime:
    """A clock and a sleep() sharing one fake timeline, in integer microseconds."""

    def __init__(self, start_s: float = 1_700_000_000.0) -> None:
        self.us = int(start_s * 1_000_000)
        self.sleeps: list[float] = []
        outer = self

        class _Clock(MicroClock):
            def now_us(self) -> int:
                return outer.us

        self.clock = _Clock()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.us += round(seconds * 1_000_000)

    @property
    def seconds(self) -> float:
        return self.us / 1_000_000


# -- rate/burst arithmetic on a fake timeline ----------------------------------------


def memory_store() -> StateStoreAdapter:
    """pyrate's own in-process store, through the adapter any plain StateStore takes."""
    return StateStoreAdapter(InMemoryStateStore())


def _stores(tmp_path):
    return {"memory": memory_store(), "file": FileStateStore(tmp_path / "state.bucket")}


@pytest.mark.parametrize("kind", ["memory", "file"])
@pytest.mark.parametrize(("rate", "burst", "n"), [(10, 1, 25), (4, 3, 20), (0.5, 1, 6), (2.5, 1, 21), (2.5, 4, 24)])
def test_n_acquires_take_n_minus_burst_over_rate(tmp_path, kind, rate, burst, n):
    fake = FakeTime()
    limiter = TokenLimiter(rate, burst, _stores(tmp_path)[kind], clock=fake.clock, sleep=fake.sleep)
    start = fake.seconds
    results = [limiter.acquire() for _ in range(n)]
    elapsed = fake.seconds - start
    assert elapsed == pytest.approx((n - burst) / rate, abs=0.001)
    # The first `burst` tokens are free; waits add up to the elapsed fake time.
    assert all(r == AcquireResult(waited=0.0, attempts=1) for r in results[:burst])
    assert all(r.attempts >= 2 for r in results[burst:])
    assert sum(r.waited for r in results) == pytest.approx(elapsed, abs=1e-6)
    assert all(step <= 0.05 + 1e-9 for step in fake.sleeps)
    limiter.close()


def test_rate_never_rounds_up():
    # 1/7 per second must not become 0.143/s: the emission interval errs long.
    fake = FakeTime()
    limiter = TokenLimiter(1 / 7, 1, memory_store(), clock=fake.clock, sleep=fake.sleep)
    for _ in range(4):
        limiter.acquire()
    assert fake.seconds - 1_700_000_000.0 >= 3 * 7


def test_bucket_refills_after_idle_but_not_beyond_burst():
    fake = FakeTime()
    limiter = TokenLimiter(2, 3, memory_store(), clock=fake.clock, sleep=fake.sleep)
    for _ in range(3):
        assert limiter.acquire().waited == 0
    fake.sleep(100)  # long idle: the bucket is full again, but holds only `burst`
    fake.sleeps.clear()
    waits = [limiter.acquire().waited for _ in range(5)]
    assert waits[:3] == [0, 0, 0]
    assert sum(waits) == pytest.approx(2 / 2, abs=0.001)


def test_unlimited_never_touches_the_store():
    class Exploding(InMemoryStateStore):
        def check(self, *args):
            raise AssertionError("store used")

    limiter = TokenLimiter(math.inf, 1, StateStoreAdapter(Exploding()))
    assert limiter.unlimited
    assert limiter.acquire() == AcquireResult(waited=0.0, attempts=0)


@pytest.mark.parametrize(
    "bad",
    [
        {"rate": 0, "burst": 1},
        {"rate": -1, "burst": 1},
        {"rate": math.nan, "burst": 1},
        {"rate": 1, "burst": 0},
        {"rate": 1, "burst": 1.5},
    ],
)
def test_invalid_rate_or_burst(bad):
    with pytest.raises(ValueError):
        TokenLimiter(store=memory_store(), **bad)


def test_a_plain_pyrate_store_needs_the_adapter():
    with pytest.raises(TypeError, match="StateStoreAdapter"):
        TokenLimiter(1, 1, InMemoryStateStore())


def _lock_is_free(path) -> bool:
    """Whether another open file description could flock ``path`` right now."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def test_waiting_happens_outside_the_file_lock(tmp_path):
    store = FileStateStore(tmp_path / "state.bucket")
    free_during_sleep = []

    def sleep(seconds):
        free_during_sleep.append(_lock_is_free(store.path))
        time.sleep(seconds)

    limiter = TokenLimiter(20, 1, store, sleep=sleep)
    for _ in range(3):
        limiter.acquire()
    assert free_during_sleep and all(free_during_sleep)


# -- cancellation ------------------------------------------------------------------------


def test_should_stop_checked_between_sleep_slices():
    fake = FakeTime()
    limiter = TokenLimiter(0.1, 1, memory_store(), clock=fake.clock, sleep=fake.sleep)
    limiter.acquire()
    calls = []

    def should_stop():
        calls.append(len(fake.sleeps))
        return len(fake.sleeps) >= 3

    with pytest.raises(Cancelled):
        limiter.acquire(should_stop=should_stop, poll=0.05)
    assert len(fake.sleeps) == 3 and all(s == 0.05 for s in fake.sleeps)
    # A stop requested before the first put never spends a token.
    fake.sleeps.clear()
    with pytest.raises(Cancelled):
        limiter.acquire(should_stop=lambda: True)
    assert fake.sleeps == []
    fake.sleep(10)
    assert limiter.acquire() == AcquireResult(waited=0.0, attempts=1)


def test_should_stop_cancels_a_real_wait_promptly(tmp_path):
    # Judged on counts, not seconds: how many sleep slices the waiter took after the stop was
    # set (one: the slice it was in), and that it was cancelled rather than granted. The token is
    # 60 s away, so no load could let the wait run out first.
    stop = threading.Event()
    slices = {"before": 0, "after": 0}

    def sleep(seconds):
        slices["after" if stop.is_set() else "before"] += 1
        time.sleep(seconds)

    limiter = TokenLimiter(1 / 60, 1, FileStateStore(tmp_path / "state.bucket"), sleep=sleep)
    limiter.acquire()
    outcome: dict = {}

    def waiter():
        try:
            limiter.acquire(should_stop=stop.is_set, poll=0.05)
            outcome["result"] = "acquired"
        except Cancelled:
            outcome["result"] = "cancelled"

    thread = threading.Thread(target=waiter)
    thread.start()
    # it really is waiting for the token, slice after slice
    wait_until(lambda: slices["before"] >= 3 or not thread.is_alive(), 30, "three slices of waiting", interval=0.01)
    assert thread.is_alive()
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert outcome["result"] == "cancelled"
    assert slices["after"] <= 1, slices  # the slice in progress when the stop came, then no other
    # Cancelling spent nothing: the next token is still due ~5 s after the first.
    with pytest.raises(Cancelled):
        limiter.acquire(should_stop=lambda: True)


# -- the bound across processes ------------------------------------------------------------


def worst_window_intervals(intervals, rate: float, burst: int, jitter: float = JITTER) -> tuple[float, int, float]:
    """Largest (count - allowed) over windows [start_i, end_j], counting admissions certainly inside."""
    ordered = sorted(intervals)
    worst = (-math.inf, 0, 0.0)
    for i, (lo, _) in enumerate(ordered):
        ends = sorted(end for _, end in ordered[i:])
        for rank, hi in enumerate(ends):
            excess = (rank + 1) - (burst + rate * (hi - lo + jitter))
            if excess > worst[0]:
                worst = (excess, rank + 1, hi - lo)
    return worst


def _worker(spec, token, rate, burst, count, ready, go, granted, out):
    env = {"SAKURACLOUD_ACCESS_TOKEN": token}
    store = RecordingStore(open_store(parse_backend(spec, env), env))
    limiter = TokenLimiter(rate, burst, store)
    ready.release()
    go.wait()
    for _ in range(count):
        limiter.acquire()
        with granted.get_lock():
            granted.value += 1
    limiter.close()
    out.put(store.admitted)


class Workers:
    """``procs`` forked workers, let go together once every one is at the start line.

    ``granted`` counts the tokens they have taken so far, all of them together.
    """

    def __init__(self, target, args, procs: int) -> None:
        ready, go = FORK.Semaphore(0), FORK.Event()
        self.granted, self._out = FORK.Value("i", 0), FORK.Queue()
        self._procs = [
            FORK.Process(target=target, args=(*args, ready, go, self.granted, self._out)) for _ in range(procs)
        ]
        for proc in self._procs:
            proc.start()
        for _ in self._procs:
            assert ready.acquire(timeout=60), "a worker did not reach the start line"
        go.set()

    def results(self) -> list:
        collected = [self._out.get(timeout=60) for _ in self._procs]
        for proc in self._procs:
            proc.join(timeout=10)
            assert proc.exitcode == 0
        return collected


def run_workers(target, args, procs: int) -> list:
    return Workers(target, args, procs).results()


def assert_rate_bound(results, rate, burst, procs, per_proc):
    assert [len(r) for r in results] == [per_proc] * procs  # every acquire admitted exactly once
    intervals = [iv for r in results for iv in r]
    excess, count, span = worst_window_intervals(intervals, rate, burst)
    assert excess <= 0, f"{count} admissions within {span * 1000:.1f} ms > burst + rate*(T + {JITTER}s)"


def test_file_store_bounds_rate_across_processes(tmp_path):
    procs, per_proc, rate, burst = 6, 20, 50, 1
    results = run_workers(_worker, (f"file:{tmp_path / 'state.bucket'}", "t", rate, burst, per_proc), procs)
    assert_rate_bound(results, rate, burst, procs, per_proc)
    assert len(decode_record((tmp_path / "state.bucket").read_bytes())) == 1  # one TAT, in good shape


def test_threads_sharing_one_limiter(tmp_path):
    store = RecordingStore(FileStateStore(tmp_path / "state.bucket"))
    limiter = TokenLimiter(100, 2, store)
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(10)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(store.admitted) == 40
    assert worst_window_intervals(store.admitted, 100, 2)[0] <= 0


def test_file_store_pickles_for_spawned_workers(tmp_path):
    store = FileStateStore(tmp_path / "state.bucket", lock_timeout=3)
    TokenLimiter(1000, 1, store).acquire()
    clone = pickle.loads(pickle.dumps(store))
    assert clone.path == store.path and clone.lock_timeout == 3
    TokenLimiter(1000, 1, clone).acquire()


def test_window_checks_catch_a_burst():
    # The checkers themselves: 3 admissions inside one 20 ms emission interval is a violation.
    assert worst_window([0.0, 0.001, 0.002], 50, 1, jitter=0.0)[0] > 0
    assert worst_window_intervals([(0.0, 0.001), (0.0005, 0.002), (0.001, 0.003)], 50, 1)[0] > 0
    assert worst_window_intervals([(0.02 * k, 0.02 * k + 0.001) for k in range(50)], 50, 1, jitter=0.0)[0] <= 0


# -- the algorithm ------------------------------------------------------------------------------


def test_algorithm_is_pyrates_token_bucket_at_whole_milliseconds():
    # MicroTokenBucket is TokenBucket decided in microseconds: at whole-millisecond times it must
    # give pyrate's own answers, state and wait alike, on any traffic.
    import random

    rng = random.Random(1234)
    ours, theirs = MicroTokenBucket(), TokenBucket()
    assert isinstance(ours, TokenBucket)
    for rates in ([make_rate(20, 1)], [make_rate(7, 3)], [Rate(5, 1000, burst=2), Rate(50, 60_000, burst=10)]):
        now, state_ours, state_theirs = 1_700_000_000_000, ours.initial(rates), theirs.initial(rates)
        for _ in range(2000):
            now += rng.choice((0, 0, 1, 3, 17, 50, 143, 400))
            weight = rng.choice((1, 1, 1, 2, 11))
            state_ours, decision_ours = ours.step(rates, state_ours, now, weight)
            state_theirs, decision_theirs = theirs.step(rates, state_theirs, now, weight)
            assert (state_ours, decision_ours) == (state_theirs, decision_theirs)
        assert ours.consumed(rates, state_ours, now) == theirs.consumed(rates, state_theirs, now)
        assert ours.redis_args(rates) == theirs.redis_args(rates)


def test_waits_are_exact_to_the_microsecond(tmp_path):
    # 3/s is 333,334 us a token (rounded up, never faster). pyrate's millisecond interface would
    # wait 334 ms, and a whole millisecond late each time is 0.3% of R lost for good at burst 1.
    fake = FakeTime(start_s=1_700_000_000.000_123)
    limiter = TokenLimiter(3, 1, FileStateStore(tmp_path / "state.bucket"), clock=fake.clock, sleep=fake.sleep)
    first = limiter.acquire()
    results = [limiter.acquire() for _ in range(3)]
    assert [r.attempts for r in results] == [2, 2, 2]
    assert [round(r.waited * 1e6) for r in results] == [333_334] * 3
    assert round((results[-1].granted_at - first.granted_at) * 1e6) == 3 * 333_334


def test_a_long_wait_ends_at_its_deadline_however_late_each_slice_wakes(tmp_path):
    # A 0.5 s wait in 0.05 s slices, each waking 1 ms late: the wait still ends at its deadline
    # (+ the last slice's 1 ms), not 10 ms late as ten slices simply added up would be.
    fake = FakeTime()

    def late_sleep(seconds):
        fake.sleep(seconds + 0.001)

    store = FileStateStore(tmp_path / "state.bucket")
    limiter = TokenLimiter(2, 1, store, clock=fake.clock, sleep=late_sleep, monotonic=lambda: fake.seconds)
    limiter.acquire()
    start = fake.seconds
    assert limiter.acquire(poll=0.05).attempts == 2
    assert fake.seconds - start == pytest.approx(0.501, abs=1e-6)


# -- FileStateStore: records, damage and recovery ---------------------------------------------------


def _damaged_contents():
    good = encode_record((1_700_000_000_000_000,))
    flipped = bytearray(good)
    flipped[9] ^= 0x01
    two = encode_record((1, 2))
    old_version = bytearray(good)
    old_version[4] = 1
    return {
        "garbage": b"\x00\xffgarbage\x13",
        "empty": b"",
        "blank": b"   \n",
        "old-json": b'{"version": 1, "tat": [1700000000000000]}',
        "truncated": good[: RECORD_SIZE // 2],
        "too-long": good + b"\0",
        "bit-flip": bytes(flipped),
        "other-version": bytes(old_version),  # (the checksum no longer matches either)
        "two-rates": two,
        "zeros": b"\0" * RECORD_SIZE,
    }


@pytest.mark.parametrize("name", list(_damaged_contents()))
def test_damaged_state_is_recovered_without_a_burst(tmp_path, name):
    # The recovered state counts as a grant made now. With burst 5 a fresh
    # bucket would hand out 5 tokens at once; recovered, each of the next tokens waits 1/R.
    path = tmp_path / "state.bucket"
    path.write_bytes(_damaged_contents()[name])
    fake = FakeTime()
    warnings: list[str] = []
    limiter = TokenLimiter(10, 5, FileStateStore(path, on_warning=warnings.append), clock=fake.clock, sleep=fake.sleep)
    results = [limiter.acquire() for _ in range(3)]
    assert [round(r.waited, 6) for r in results] == [0.1, 0.1, 0.1]
    assert len(warnings) == 1
    assert str(path) in warnings[0] and "grant made now" in warnings[0] and "no burst" in warnings[0]
    assert len(decode_record(path.read_bytes())) == 1  # rewritten in good shape


def test_a_good_record_is_not_damage(tmp_path):
    path = tmp_path / "state.bucket"
    fake = FakeTime()
    path.write_bytes(encode_record((fake.us - 10_000_000,)))  # long past: a full bucket
    warnings: list[str] = []
    limiter = TokenLimiter(10, 5, FileStateStore(path, on_warning=warnings.append), clock=fake.clock, sleep=fake.sleep)
    assert [limiter.acquire().waited for _ in range(5)] == [0.0] * 5
    assert warnings == []


def test_torn_writes_read_as_the_old_state_the_new_state_or_damage():
    # A crash in the middle of a write leaves some prefix of the new record over the old one (or a
    # file cut short). Every such file must decode as exactly the old or the new state, or be
    # rejected - never as some third state (which could be a full bucket).
    old_state, new_state = (1_700_000_000_000_000,), (1_700_000_000_050_000,)
    old, new = encode_record(old_state), encode_record(new_state)
    outcomes = {"old": 0, "new": 0, "damaged": 0}
    for cut in range(RECORD_SIZE + 1):
        for torn in (new[:cut] + old[cut:], new[:cut], old[:cut]):
            try:
                state = decode_record(torn)
            except DamagedRecord:
                outcomes["damaged"] += 1
                continue
            assert (torn, state) in ((old, old_state), (new, new_state))
            outcomes["old" if state == old_state else "new"] += 1
    assert outcomes["damaged"] > 0 and outcomes["old"] > 0 and outcomes["new"] > 0


def _crash_mid_write(path, rate, burst, out):
    # A child that spends the whole burst, then dies (os._exit) half-way through writing the next
    # grant: the file is left with half a new record over the old one.
    import pytest_usacloud_sandbox.limit.filestore as filestore

    real_pwrite, writes = os.pwrite, []

    def pwrite(fd, data, offset):
        writes.append(len(data))
        if len(writes) > burst:
            real_pwrite(fd, data[: len(data) // 2], offset)
            out.send(time.time())
            os._exit(0)
        return real_pwrite(fd, data, offset)

    filestore.os.pwrite = pwrite
    limiter = TokenLimiter(rate, burst, FileStateStore(path))
    for _ in range(burst + 1):
        limiter.acquire()
    out.send(None)


def test_a_crash_mid_write_grants_no_burst(tmp_path):
    path = tmp_path / "state.bucket"
    rate, burst, window = 10.0, 5, 0.25
    out, into = FORK.Pipe(duplex=False)
    child = FORK.Process(target=_crash_mid_write, args=(path, rate, burst, into))
    child.start()
    assert out.poll(60)
    crashed_at = out.recv()
    child.join(timeout=10)
    assert crashed_at is not None and child.exitcode == 0
    with pytest.raises(DamagedRecord, match="checksum"):
        decode_record(path.read_bytes())
    warnings: list[str] = []
    limiter = TokenLimiter(rate, burst, FileStateStore(path, on_warning=warnings.append))
    grants = [limiter.acquire().granted_at for _ in range(4)]
    # Recovered as a bucket emptied now: about R x window grants in the window after the crash
    # (+1 of margin); a fresh bucket would have given the whole burst of 5 at once.
    in_window = [t for t in grants if t - crashed_at <= window]
    assert len(in_window) <= rate * window + 1, [round(t - crashed_at, 3) for t in grants]
    assert len(warnings) == 1 and "checksum" in warnings[0]


def _corrupt_under_lock(path, how):
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if how == "truncate":
            os.ftruncate(fd, 0)
        else:
            os.pwrite(fd, b"\x13garbage\x00" * 8, 0)
        corrupted_at = time.time()
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return corrupted_at


@pytest.mark.parametrize("how", ["garbage", "truncate"])
def test_corrupting_the_file_mid_run_grants_no_burst(tmp_path, how):
    # End to end: workers saturate the bucket, the file is corrupted while they
    # run, and the grants that follow are counted. A fresh bucket would let 5 through at once.
    procs, per_proc, rate, burst, window = 4, 10, 20.0, 5, 0.3
    path = tmp_path / "state.bucket"
    workers = Workers(_worker, (f"file:{path}", "t", rate, burst, per_proc), procs)
    # past the initial burst: the bucket is empty and refilling at R
    wait_until(lambda: workers.granted.value >= burst + 3, 60, "the burst spent and three tokens at R")
    corrupted_at = _corrupt_under_lock(path, how)
    results = workers.results()
    assert_rate_bound(results, rate, burst, procs, per_proc)
    after = [(lo, hi) for r in results for lo, hi in r if lo >= corrupted_at]
    assert after, "the corruption came after the last grant: nothing was tested"
    in_window = [iv for iv in after if iv[1] <= corrupted_at + window]
    assert len(in_window) <= rate * window + 1, sorted(round(lo - corrupted_at, 3) for lo, _ in after)


def test_a_file_deleted_while_in_use_is_not_a_fresh_bucket(tmp_path):
    path = tmp_path / "state.bucket"
    fake = FakeTime()
    warnings: list[str] = []
    limiter = TokenLimiter(10, 3, FileStateStore(path, on_warning=warnings.append), clock=fake.clock, sleep=fake.sleep)
    assert [limiter.acquire().waited for _ in range(3)] == [0.0] * 3
    path.unlink()
    assert round(limiter.acquire().waited, 6) == 0.1  # not 3 more free tokens
    assert len(warnings) == 1 and "lost while in use" in warnings[0]
    assert len(decode_record(path.read_bytes())) == 1


def test_missing_state_file_is_not_a_warning(tmp_path):
    warnings: list[str] = []
    path = tmp_path / "sub" / "state.bucket"
    TokenLimiter(10, 1, FileStateStore(path, on_warning=warnings.append)).acquire()
    assert warnings == []
    assert path.stat().st_size == RECORD_SIZE and not [p for p in path.parent.iterdir() if p != path]


def test_the_state_file_is_created_where_hard_links_are_refused(tmp_path, monkeypatch):
    def refuse(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", refuse)
    path = tmp_path / "state.bucket"
    warnings: list[str] = []
    limiter = TokenLimiter(10, 2, FileStateStore(path, on_warning=warnings.append))
    assert [limiter.acquire().attempts for _ in range(2)] == [1, 1]  # a fresh bucket, not damage
    assert warnings == [] and len(decode_record(path.read_bytes())) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["state.bucket"]  # no temporary file left


def test_state_far_in_the_future_is_clamped(tmp_path):
    # e.g. the wall clock jumped back an hour since the state was written.
    fake = FakeTime()
    path = tmp_path / "state.bucket"
    path.write_bytes(encode_record((fake.us + 3600 * 1_000_000,)))
    limiter = TokenLimiter(10, 2, FileStateStore(path), clock=fake.clock, sleep=fake.sleep)
    waited = sum(limiter.acquire().waited for _ in range(2))
    assert waited <= 2 * 0.1 + 0.001  # at most burst * emission, not an hour


def _hold_lock_forever(path, held):
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    held.set()
    time.sleep(120)


def test_sigkilled_lock_holder_does_not_wedge_others(tmp_path):
    store = FileStateStore(tmp_path / "state.bucket", lock_timeout=0.3)
    limiter = TokenLimiter(100, 1, store)
    limiter.acquire()  # creates the file
    held = FORK.Event()
    child = FORK.Process(target=_hold_lock_forever, args=(str(store.path), held))
    child.start()
    try:
        assert held.wait(10)
        with pytest.raises(LimiterUnavailable, match="not acquired within"):
            limiter.acquire()  # the lock really is held
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
    assert child.exitcode == -signal.SIGKILL
    limiter.acquire()  # the kernel dropped the dead holder's lock
    # and a fresh process gets in too, well within its lock timeout
    code = (
        "import sys; from pytest_usacloud_sandbox.limit.bucket import FileStateStore, TokenLimiter\n"
        "TokenLimiter(100, 1, FileStateStore(sys.argv[1], lock_timeout=5.0)).acquire()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(store.path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stderr


def test_unwritable_state_raises_limiter_unavailable(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(LimiterUnavailable):
        TokenLimiter(10, 1, FileStateStore(blocker / "state.bucket")).acquire()
    with pytest.raises(LimiterUnavailable, match="cannot be used"):
        check_backend(Backend("file", path=blocker / "state.bucket"), {})
    check_backend(Backend("file", path=tmp_path / "a" / "b" / "state.bucket"), {})
    assert (tmp_path / "a" / "b").is_dir()


# -- backend specs and keys -------------------------------------------------------------------


def test_state_key_hashes_token_or_profile():
    a = state_key({"SAKURACLOUD_ACCESS_TOKEN": "tok-aaaa-1111"})
    b = state_key({"SAKURA_ACCESS_TOKEN": "tok-bbbb-2222"})
    assert a.startswith("token-") and b.startswith("token-") and a != b
    assert "tok" not in a[len("token-") :] and "aaaa" not in a and "1111" not in a
    assert state_key({"SAKURA_ACCESS_TOKEN": "tok-aaaa-1111"}) == a
    assert state_key({"SAKURACLOUD_ACCESS_TOKEN": "x", "SAKURA_ACCESS_TOKEN": "y"}) == state_key(
        {"SAKURA_ACCESS_TOKEN": "x"}
    )
    default = state_key({})
    assert default.startswith("profile-") and default == state_key({"USACLOUD_PROFILE": "default"})
    assert state_key({"SAKURACLOUD_PROFILE": "staging"}) != default
    assert "staging" not in state_key({"SAKURACLOUD_PROFILE": "staging"})
    assert state_key({"SAKURACLOUD_ACCESS_TOKEN": "", "SAKURA_PROFILE": "p"}) == state_key({"USACLOUD_PROFILE": "p"})


def test_default_path_uses_xdg_cache_home(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "SAKURACLOUD_ACCESS_TOKEN": "t1"}
    path = default_state_path(env)
    assert path == tmp_path / "cache" / "pytest-usacloud-sandbox" / f"ratelimit-{state_key(env)}.bucket"
    assert default_state_path({"HOME": str(tmp_path)}).parent == tmp_path / ".cache" / "pytest-usacloud-sandbox"
    backend = parse_backend(None, env)
    assert backend == Backend("file", path=path) == parse_backend("", env)
    assert backend.masked() == str(path)


def test_parse_file_spec(tmp_path):
    assert parse_backend(f"file:{tmp_path}/x.json", {}) == Backend("file", path=tmp_path / "x.json")
    relative = parse_backend("file:rl/x.json", {})
    assert relative.path.is_absolute() and relative.path.parts[-2:] == ("rl", "x.json")


@pytest.mark.parametrize(
    ("spec", "shown"),
    [
        ("redis://localhost:6379/0", "redis://localhost:6379/0"),
        ("redis://:hunter2@cache.internal:6380/3", "redis://:***@cache.internal:6380/3"),
        ("rediss://alice:hunter2@cache.internal:6380/0", "rediss://alice:***@cache.internal:6380/0"),
        ("redis://hunter2@cache.internal", "redis://***@cache.internal"),
        (
            "rediss://cache.internal/0?password=hunter2&ssl_cert_reqs=none",
            "rediss://cache.internal/0?password=***&ssl_cert_reqs=none",
        ),
    ],
)
def test_parse_redis_spec_and_mask(spec, shown):
    backend = parse_backend(spec, {})
    assert backend.kind == "redis" and backend.url == spec and backend.path is None
    assert backend.masked() == shown
    assert "hunter2" not in repr(backend) and "hunter2" not in str(backend)


@pytest.mark.parametrize(
    "spec",
    [
        "file:",
        "sqlite:///x.db",
        "/tmp/state.json",
        "redis://",
        "redis://:pw@host:notaport/0",
        "redis://host/zero",
        "memcached://host",
        "pw@host:6379",
        # redis-py hands unknown query parameters to its connection, which fails on first use
        "redis://:pw@host/0?x=1",
        "redis://:pw@host/0?pw",
        "redis://host/0?socket_timeout=1",
        "redis://:pw@host/0?ssl_cert_reqs=none",  # TLS settings only for rediss://
        "redis://host?db=zero",
    ],
)
def test_bad_specs_raise_value_error(spec):
    with pytest.raises(ValueError) as excinfo:
        parse_backend(spec, {})
    assert "pw" not in str(excinfo.value).replace("password", "")


def test_a_redis_url_with_a_query_is_a_usage_error_naming_the_option_not_the_password(e2e):
    e2e.script("a.usacloud", "usacloud zone list\n")
    for spec in ("redis://:hunter2@127.0.0.1:6379/0?x=1", "redis://127.0.0.1:6379/0?hunter2"):
        result = e2e.usage_error(f"--usacloud-rate-backend={spec}", "--usacloud-rate=2")
        text = result.stdout.str() + result.stderr.str()
        assert "--usacloud-rate-backend" in text and "query" in text
        assert "hunter2" not in text and "INTERNALERROR" not in text and "Traceback" not in text


def test_the_backend_spec_is_parsed_once_per_configure(pytester, monkeypatch):
    # settings.load parses --usacloud-rate-backend; the plugin's hooks (the controller's check,
    # the engine's limiter, the reporter's label) use that one Backend.
    from pytest_usacloud_sandbox import settings as settings_module
    from pytest_usacloud_sandbox.limit import backend as backend_module
    from pytest_usacloud_sandbox.limit import bucket as bucket_module
    from pytest_usacloud_sandbox.signals import Interrupts
    from pytest_usacloud_sandbox.startup import SETTINGS_KEY

    monkeypatch.setattr(Interrupts, "install", lambda self: self)  # no handlers in this test process
    calls = []
    real = backend_module.parse_backend

    def counting(spec, env):
        calls.append(spec)
        return real(spec, env)

    for module in (backend_module, bucket_module, settings_module):
        monkeypatch.setattr(module, "parse_backend", counting)
    (pytester.path / "scripts").mkdir()
    (pytester.path / "scripts" / "a.usacloud").write_text("usacloud zone list\n")
    spec = "redis://:hunter2@127.0.0.1:1/0"
    config = pytester.parseconfigure(
        "--usacloud-scripts=scripts", "--usacloud-dry-run", f"--usacloud-rate-backend={spec}"
    )
    assert calls == [spec]
    loaded = config.stash[SETTINGS_KEY]
    assert loaded.rate_backend == Backend("redis", url=spec)
    assert "hunter2" not in repr(loaded) and "redis://:***@127.0.0.1:1/0" in repr(loaded)


# -- redis --------------------------------------------------------------------------------------


def test_unreachable_redis_raises_after_bounded_retry():
    pytest.importorskip("redis")
    backend = parse_backend(f"redis://:hunter2@127.0.0.1:{redis_tools.free_port()}/0", {})
    with pytest.raises(LimiterUnavailable) as excinfo:
        check_backend(backend, {})
    assert "hunter2" not in str(excinfo.value) and "***" in str(excinfo.value)
    limiter = TokenLimiter(10, 1, open_store(backend, {}, retry_window=0.5, socket_timeout=0.2))
    started = time.monotonic()
    with pytest.raises(LimiterUnavailable) as excinfo:
        limiter.acquire()
    assert 0.4 <= time.monotonic() - started < 5
    assert "hunter2" not in str(excinfo.value) and "unreachable" in str(excinfo.value)


class FlakyRedis:
    """A Redis client whose script and TIME fail with ``failures`` (in turn), then answer."""

    def __init__(self, failures: list[Exception], server_us: int) -> None:
        self.failures, self.server_us, self.calls = failures, server_us, 0

    def _answer(self, value):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return value

    def register_script(self, lua):
        return lambda keys, args: self._answer([-1, self.server_us])  # admitted at the server's TIME

    def time(self):
        return self._answer(divmod(self.server_us, 1_000_000))


def test_redis_retry_recovers_within_window():
    redis = pytest.importorskip("redis")
    server_us = 1_700_000_000_123_456
    sleeps: list[float] = []

    def store_failing(*failures) -> RetryingRedisStateStore:
        client = FlakyRedis(list(failures), server_us)
        return RetryingRedisStateStore(client, "k", retry_window=5, sleep=sleeps.append)

    store = store_failing(redis.exceptions.ConnectionError("down"), redis.exceptions.TimeoutError("slow"))
    assert store.default_clock.now_us() == server_us
    assert store.client.calls == 3 and sleeps == [0.05, 0.1]  # two retries, backing off
    store = store_failing(redis.exceptions.ConnectionError("down"))
    assert TokenLimiter(10, 1, store).acquire().granted_at == server_us / 1e6  # a grant through a retry
    assert store.client.calls == 2


def _redis_backend_and_env():
    env = {"SAKURACLOUD_ACCESS_TOKEN": f"test-{uuid.uuid4()}"}
    return parse_backend(REDIS_URL, env), env


@needs_redis
def test_redis_store_uses_server_clock_and_limits():
    backend, env = _redis_backend_and_env()
    check_backend(backend, env)
    store = open_store(backend, env)
    assert isinstance(store.default_clock, RedisClock)
    assert abs(store.default_clock.now() / 1000 - time.time()) < 60  # same host in CI: sanity only
    rate, burst, n = 20, 2, 8
    limiter = TokenLimiter(rate, burst, store)
    results = [limiter.acquire() for _ in range(n)]
    assert [r.attempts for r in results[:burst]] == [1, 1]  # a full bucket
    # Judged on the server's own admission times (TIME inside the script), to the microsecond: a
    # stamp taken here after acquire() would carry this process's scheduling delay. Whether a given
    # acquire had to wait depends on that delay too (a pause of 50 ms refills a token), so only
    # the bound and the span are held, and waiting must have happened somewhere.
    grants = [r.granted_at for r in results]
    assert worst_window(grants, rate, burst, GRANT_JITTER)[0] <= 0
    assert max(grants) - min(grants) >= (n - burst) / rate - GRANT_JITTER
    assert any(r.attempts >= 2 and r.waited > 0 for r in results[burst:])
    store.reset()
    limiter.close()


@needs_redis
def test_redis_store_bounds_rate_across_processes():
    procs, per_proc, rate, burst = 6, 20, 50, 1
    backend, env = _redis_backend_and_env()
    results = run_workers(_worker, (backend.url, env["SAKURACLOUD_ACCESS_TOKEN"], rate, burst, per_proc), procs)
    assert_rate_bound(results, rate, burst, procs, per_proc)
    open_store(backend, env).reset()


def test_redis_server_stopping_mid_run_raises_limiter_unavailable(tmp_path):
    with private_redis(tmp_path) as server:
        backend = parse_backend(server.url, {})
        check_backend(backend, {})
        limiter = TokenLimiter(1000, 1, open_store(backend, {}, retry_window=0.5, socket_timeout=0.2))
        limiter.acquire()
    started = time.monotonic()
    with pytest.raises(LimiterUnavailable, match="unreachable"):
        limiter.acquire()
    assert time.monotonic() - started >= 0.4


@needs_redis
def test_redis_far_future_state_is_clamped():
    backend, env = _redis_backend_and_env()
    store = open_store(backend, env)
    server_now_us = store.default_clock.now() * 1000
    store.client.hset(store.key, mapping={"tat1": str(server_now_us + 3600 * 1_000_000)})
    limiter = TokenLimiter(10, 2, store)
    started = time.monotonic()
    results = [limiter.acquire() for _ in range(2)]
    assert sum(r.waited for r in results) <= 2 * 0.1 + 0.05  # burst * emission, not an hour
    assert time.monotonic() - started < 5
    store.reset()
    limiter.close()


@needs_redis
def test_redis_damaged_value_is_recovered_without_a_burst():
    backend, env = _redis_backend_and_env()
    store = open_store(backend, env)
    store.client.hset(store.key, mapping={"tat1": "garbage"})
    limiter = TokenLimiter(10, 5, store)
    results = [limiter.acquire() for _ in range(2)]
    # recovered as a bucket emptied now: each token waits; a fresh bucket would admit both at once
    assert [r.attempts >= 2 for r in results] == [True, True]
    assert int(store.client.hget(store.key, "tat1")) > 0  # rewritten as a number
    store.reset()
    limiter.close()


@needs_redis
def test_redis_wrong_password_is_limiter_unavailable():
    from urllib.parse import urlsplit

    parts = urlsplit(REDIS_URL)
    # An unknown ACL user fails AUTH whether or not the server has a password
    # (a passwordless Redis >= 6 accepts any password for the default user).
    bad = f"{parts.scheme}://no-such-user:definitely-wrong-pw@{parts.hostname}:{parts.port or 6379}/0"
    backend = parse_backend(bad, {})
    with pytest.raises(LimiterUnavailable) as excinfo:
        check_backend(backend, {})
    assert "definitely-wrong-pw" not in str(excinfo.value)
    with pytest.raises(LimiterUnavailable) as excinfo:
        TokenLimiter(10, 1, open_store(backend, {}, retry_window=0.5)).acquire()
    assert "definitely-wrong-pw" not in str(excinfo.value)


# -- what a run imports -------------------------------------------------------------------------

PROBE = """
import json, os, sys

def pytest_unconfigure(config):
    workerinput = getattr(config, "workerinput", None)
    name = workerinput["workerid"] if workerinput else "controller"
    loaded = sorted(m for m in ("pyrate_limiter", "filelock", "redis") if m in sys.modules)
    with open(os.environ["PROBE_OUT"], "a") as out:
        out.write(json.dumps([name, loaded]) + "\\n")
"""


@pytest.mark.parametrize("rate", ["unlimited", "100"])
def test_a_run_without_a_rate_limit_never_imports_the_limiter(e2e, rate):
    # pyrate-limiter costs every worker ~0.15 s of CPU to import (filelock and redis some more): only a run that
    # takes tokens pays it. The rated run shows the probe sees the import where it happens.
    (e2e.pytester.path / "import_probe.py").write_text(PROBE)
    out = e2e.tmp / "modules.jsonl"
    e2e.env(PROBE_OUT=out)
    e2e.script("a.usacloud", "usacloud zone list\n")
    e2e.script("b.usacloud", "usacloud zone list\n")
    result = e2e.run("-p", "import_probe", rate=rate, workers=2)
    result.assert_outcomes(passed=2)
    seen = dict(tuple(json.loads(line)) for line in out.read_text().splitlines())
    assert sorted(seen) == ["controller", "gw0", "gw1"]
    if rate == "unlimited":
        assert seen == {"controller": [], "gw0": [], "gw1": []}
    else:
        assert all("pyrate_limiter" in seen[w] for w in ("gw0", "gw1")), seen
