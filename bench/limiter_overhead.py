"""Token-grant latency with 1 and N contending processes, against baselines from the same run.

The rate is so high (1e6/s, burst 1e6) that every acquire is admitted on its first put(), so what
is measured is the store round trip. Each backend is measured next to baselines doing bare I/O
with the same number of processes, and the figures are printed as ratios to them:

* file, ``floor``: flock + pread + pwrite + unlock of a 64-byte record on a descriptor kept open,
  the least an in-place store can pay (a blocking flock: the kernel's own queue, no polling);
* file, ``replace``: flock + read and decode a JSON file + write a new file + ``os.replace``, what
  the store paid per grant when the bucket lived in the store (without its Python bucket logic);
* redis, ``floor``: one EVALSHA of a one-line script, a bare round trip.

    python bench/limiter_overhead.py [--procs 8] [--per-proc 300]
    USACLOUD_TEST_REDIS_URL=redis://127.0.0.1:6379/0 python bench/limiter_overhead.py
"""

from __future__ import annotations

import argparse
import fcntl
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _limiter import backend_specs, header, load

from pytest_usacloud_sandbox.limit.bucket import TokenLimiter, open_store, parse_backend
from pytest_usacloud_sandbox.limit.redisstore import redis_client

RATE, BURST = 1e6, 1_000_000


def _acquire(spec: str, token: str):
    env = {"SAKURACLOUD_ACCESS_TOKEN": token}
    limiter = TokenLimiter(RATE, BURST, open_store(parse_backend(spec, env), env))
    return limiter.acquire, limiter.close


def _file_floor(spec: str, token: str):
    fd = os.open(f"{parse_backend(spec, {}).path}.floor-{token}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    os.pwrite(fd, b"\0" * 64, 0)

    def op() -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        record = os.pread(fd, 65, 0)
        os.pwrite(fd, record, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)

    return op, lambda: os.close(fd)


def _file_replace(spec: str, token: str):
    path = Path(f"{parse_backend(spec, {}).path}.replace-{token}")
    lock = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def op() -> None:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            tat = json.loads(path.read_bytes())["tat"] if path.exists() else [0]
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(json.dumps({"version": 1, "tat": [tat[0] + 1]}))
            os.replace(tmp, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

    return op, lambda: os.close(lock)


def _redis_floor(spec: str, token: str):
    client = redis_client(spec, 2.0)
    script = client.register_script("return 1")
    return (lambda: script(keys=[f"bench-floor-{token}"], args=[])), client.close


def worker(make, spec: str, token: str, count: int, go, out) -> None:
    op, close = make(spec, token)
    op()  # warm up: connect, register the script, create the file
    go.wait()
    latencies = []
    for _ in range(count):
        start = time.perf_counter()
        op()
        latencies.append(time.perf_counter() - start)
    close()
    out.put(latencies)


def measure(make, spec: str, procs: int, per_proc: int) -> dict:
    ctx = mp.get_context("fork")
    go, out = ctx.Event(), ctx.Queue()
    token = f"bench-{uuid.uuid4()}"
    workers = [ctx.Process(target=worker, args=(make, spec, token, per_proc, go, out)) for _ in range(procs)]
    for proc in workers:
        proc.start()
    time.sleep(0.5)
    started = time.perf_counter()
    go.set()
    latencies = sorted(lat for _ in workers for lat in out.get(timeout=600))
    elapsed = time.perf_counter() - started
    for proc in workers:
        proc.join()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {"p50": pct(50), "p99": pct(99), "max": latencies[-1] * 1000, "per_s": len(latencies) / elapsed}


def show(label: str, figures: dict, base: dict | None = None, base_name: str = "") -> str:
    text = f"{label:<8} p50 {figures['p50']:7.3f} ms  p99 {figures['p99']:7.3f} ms  {figures['per_s']:6.0f}/s"
    if base is not None:
        text += f"   = {figures['p50'] / base['p50']:5.2f} x / {figures['p99'] / base['p99']:5.2f} x {base_name}"
    return text


def run(spec: str, procs: int, per_proc: int) -> None:
    kind = parse_backend(spec, {}).kind
    floor_op = _file_floor if kind == "file" else _redis_floor
    print(f"{parse_backend(spec, {}).label()}: {procs} process{'es' if procs > 1 else ''} x {per_proc}, {load()}")
    # Interleaved, so that the baselines see the same load as the limiter.
    floor = measure(floor_op, spec, procs, per_proc)
    acquire = measure(_acquire, spec, procs, per_proc)
    print("  " + show("floor", floor))
    print("  " + show("acquire", acquire, floor, "floor (p50 / p99)"))
    if kind == "file":
        replace = measure(_file_replace, spec, procs, per_proc)
        print("  " + show("replace", replace, floor, "floor"))
        p50, p99 = acquire["p50"] / replace["p50"], acquire["p99"] / replace["p99"]
        print(f"  acquire / replace: p50 {p50:.3f} x, p99 {p99:.3f} x")


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
