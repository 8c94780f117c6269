"""How tightly the shared bucket holds its bound under contention, and the rate it achieves.

N processes share ``total`` acquisitions at R tokens/s, burst B. For every time
window [t, t+T] the count of admissions should be <= B + R*T. Two views:

* proven: each admission is known to lie inside the (before, after) interval of
  the store call that admitted it; a window only counts admissions certainly
  inside it, so scheduling noise cannot inflate it. This is the limiter's error.
* after-return: ``time.time()`` when ``acquire()`` returned, as a caller would
  see it (includes descheduling after admission).

The achieved rate is printed as a ratio to R and to a baseline measured in the same run, just
before: one process that sleeps to each next slot (``time.sleep`` to 1/R after the previous
wake-up, with no store, no lock and no other process). With burst 1 a late wake-up is lost for
good, so that baseline is what this machine's wake-up latency alone allows at its current load.

    python bench/limiter_precision.py [--procs 8] [--total 300] [--rate 20] [--burst 1]
    USACLOUD_TEST_REDIS_URL=redis://127.0.0.1:6379/0 python bench/limiter_precision.py
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from _limiter import RecordingStore, backend_specs, header, load

from pytest_usacloud_sandbox.limit.bucket import TokenLimiter, open_store, parse_backend


def worker(spec, token, rate, burst, count, go, out) -> None:
    env = {"SAKURACLOUD_ACCESS_TOKEN": token}
    store = RecordingStore(open_store(parse_backend(spec, env), env))
    limiter = TokenLimiter(rate, burst, store)
    go.wait()
    returned = []
    for _ in range(count):
        limiter.acquire()
        returned.append(time.time())
    limiter.close()
    out.put((store.admitted, returned))


def sleep_baseline(total: int, rate: float) -> float:
    """Achieved rate / R of a lone process sleeping to each next slot (burst 1, lateness lost)."""
    interval = 1 / rate
    first = last = time.time()
    for _ in range(total - 1):
        time.sleep(max(0.0, last + interval - time.time()))
        last = time.time()
    return (total - 1) / (last - first) / rate


def min_spans(intervals):
    """min_span[c]: the shortest window [start_i, end_j] certainly holding c admissions."""
    ordered = sorted(intervals)
    best = [0.0, 0.0] + [math.inf] * (len(ordered) - 1)
    for i, (lo, _) in enumerate(ordered):
        for rank, hi in enumerate(sorted(end for _, end in ordered[i:])):
            best[rank + 1] = min(best[rank + 1], hi - lo)
    return best


def report(label, spans, rate, burst):
    # Worst window over every count c >= 2: c admissions in span T vs the bound burst + R*T.
    excess, count = max((c - (burst + rate * spans[c]), c) for c in range(2, len(spans)))
    span = spans[count]
    print(
        f"  {label}: worst window {count} admissions in {span * 1000:8.1f} ms vs bound {burst + rate * span:7.2f}"
        f" (excess {excess:+.2f} tokens = {excess / rate * 1000:+.1f} ms);"
        f" closest two admissions {spans[2] * 1000:.1f} ms apart (1/R = {1000 / rate:.1f} ms)"
    )


def run(spec: str, procs: int, total: int, rate: float, burst: int) -> None:
    print(f"{parse_backend(spec, {}).label()}: {procs} procs, {total} acquisitions, R={rate:g}/s, burst={burst}")
    print(f"  {load()} before")
    baseline = sleep_baseline(total, rate)
    print(f"  baseline: a lone process sleeping to each slot achieves {baseline:.4f} x R")
    ctx = mp.get_context("fork")
    go, out = ctx.Event(), ctx.Queue()
    token = f"bench-{uuid.uuid4()}"
    counts = [total // procs + (i < total % procs) for i in range(procs)]
    workers = [ctx.Process(target=worker, args=(spec, token, rate, burst, n, go, out)) for n in counts]
    for proc in workers:
        proc.start()
    time.sleep(0.5)
    go.set()
    results = [out.get(timeout=3600) for _ in workers]
    for proc in workers:
        proc.join()
    intervals = [iv for admitted, _ in results for iv in admitted]
    returned = sorted(t for _, ret in results for t in ret)
    assert len(intervals) == total == len(returned), (len(intervals), total)
    mids = sorted((a + b) / 2 for a, b in intervals)
    achieved = (total - burst) / (mids[-1] - mids[0])
    widest = max(b - a for a, b in intervals)
    report("proven      ", min_spans(intervals), rate, burst)
    report("after-return", min_spans([(t, t) for t in returned]), rate, burst)
    print(
        f"  achieved rate {achieved:.3f}/s = {achieved / rate:.4f} x R = {achieved / rate / baseline:.4f} x baseline"
        f"   (widest admission interval {widest * 1000:.1f} ms; {load()} after)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--total", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=1)
    args = parser.parse_args()
    header()
    for spec in backend_specs():
        run(spec, args.procs, args.total, args.rate, args.burst)


if __name__ == "__main__":
    main()
