"""Token-acquire latency with several contending processes (run by hand, prints numbers).

The rate is so high (1e6/s, burst 1e6) that every acquire is admitted on its
first put(), so what is measured is the store round trip: file lock + JSON
read + atomic replace for the file backend, TIME + EVALSHA for redis.

    python bench/limiter_overhead.py [--procs 8] [--per-proc 300]
    USACLOUD_TEST_REDIS_URL=redis://127.0.0.1:6379/0 python bench/limiter_overhead.py
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _limiter import backend_specs, header

from pytest_usacloud_sandbox.limit.bucket import TokenLimiter, open_store, parse_backend

RATE, BURST = 1e6, 1_000_000


def worker(spec: str, token: str, count: int, go, out) -> None:
    env = {"SAKURACLOUD_ACCESS_TOKEN": token}
    limiter = TokenLimiter(RATE, BURST, open_store(parse_backend(spec, env), env))
    limiter.acquire()  # warm up: connect, register the script, create the file
    go.wait()
    latencies, retried = [], 0
    for _ in range(count):
        start = time.perf_counter()
        result = limiter.acquire()
        latencies.append(time.perf_counter() - start)
        retried += result.attempts > 1
    limiter.close()
    out.put((latencies, retried))


def run(spec: str, procs: int, per_proc: int) -> None:
    ctx = mp.get_context("fork")
    go, out = ctx.Event(), ctx.Queue()
    token = f"bench-{uuid.uuid4()}"
    workers = [ctx.Process(target=worker, args=(spec, token, per_proc, go, out)) for _ in range(procs)]
    for proc in workers:
        proc.start()
    time.sleep(0.5)
    started = time.perf_counter()
    go.set()
    results = [out.get(timeout=600) for _ in workers]
    elapsed = time.perf_counter() - started
    for proc in workers:
        proc.join()
    latencies = sorted(lat for lats, _ in results for lat in lats)
    retried = sum(r for _, r in results)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    shown = parse_backend(spec, {}).masked()
    print(
        f"{shown:<40} procs={procs:<2} n={len(latencies):<5} "
        f"p50={pct(50):7.3f} ms  p90={pct(90):7.3f} ms  p99={pct(99):7.3f} ms  max={latencies[-1] * 1000:7.2f} ms  "
        f"mean={statistics.fmean(latencies) * 1000:6.3f} ms  throughput={len(latencies) / elapsed:7.0f}/s  "
        f"retried={retried}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--per-proc", type=int, default=300)
    args = parser.parse_args()
    header()
    for spec in backend_specs():
        run(spec, 1, args.per_proc)
        run(spec, args.procs, args.per_proc)


if __name__ == "__main__":
    main()
