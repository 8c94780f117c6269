"""Per-script overhead in commands mode against plain pytest-xdist and GNU parallel (issue 16.2).

Three ways to run the same N one-command jobs with an *instant* usacloud (``/bin/true``), each
measured as the wall time of the whole process, in the same run, interleaved, repeated:

* ``plugin``: ``pytest --usacloud-scripts=DIR -n W`` over N scripts of one ``usacloud zone list``
  (rate unlimited: the limiter is not what is measured here).
* ``xdist``: plain ``pytest -n W`` over N parametrised tests, each running the same subprocess.
* ``parallel``: GNU parallel (or ``xargs -P`` without it) running the same N subprocesses.

Prints the medians, the ratio plugin/xdist (target <= 1.3) and the overhead per script in ms.
``--profile`` also runs the plugin in one process under cProfile and prints where its own time
goes per module (parse, policy, check, records, run log, counters...).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _e2e import INNER_PLUGINS, bench_env, load_now, machine_info

INSTANT = "/bin/true"


def make_jobs(tmp: Path, n: int) -> tuple[Path, Path]:
    scripts = tmp / "scripts"
    scripts.mkdir()
    for i in range(n):
        (scripts / f"s{i:05d}.usacloud").write_text("usacloud zone list\n")
    plain = tmp / "plain"
    plain.mkdir()
    (plain / "test_plain.py").write_text(
        "import subprocess\nimport pytest\n\n\n"
        f"@pytest.mark.parametrize('i', range({n}))\n"
        "def test_job(i):\n"
        f"    argv = [{INSTANT!r}, 'zone', 'list']\n"
        "    subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, check=True)\n"
    )
    return scripts, plain


def timed(argv: list[str], env: dict, cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{proc.stdout.decode()[-2000:]}")
    return elapsed


def argv_plugin(scripts: Path, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "pytest", *INNER_PLUGINS, f"--usacloud-scripts={scripts}",
        f"--usacloud-bin={INSTANT}", "--usacloud-rate=unlimited", "--usacloud-progress=off",
        "-p", "no:cacheprovider", f"--rootdir={scripts}", "-q", "-n", str(workers),
    ]  # fmt: skip


def argv_xdist(plain: Path, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "pytest", "-p", "xdist.plugin", "-p", "no:cacheprovider",
        f"--rootdir={plain}", "-q", "-n", str(workers), str(plain),
    ]  # fmt: skip


def argv_parallel(n: int, workers: int) -> tuple[list[str], str | None]:
    jobs = "\n".join(str(i) for i in range(n)) + "\n"
    if shutil.which("parallel"):
        return ["parallel", "-j", str(workers), INSTANT, "zone", "list", "{}"], jobs
    return ["xargs", "-P", str(workers), "-n", "1", INSTANT, "zone", "list"], jobs


def timed_parallel(n: int, workers: int, env: dict) -> float:
    argv, jobs = argv_parallel(n, workers)
    t0 = time.perf_counter()
    subprocess.run(argv, input=jobs.encode(), env=env, capture_output=True, check=True)
    return time.perf_counter() - t0


def profile_plugin(scripts: Path, env: dict, top: int) -> None:
    """One process, no xdist: where does the plugin's own time go, per module of the package?"""
    import os

    import pytest

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        pytest.main([*argv_plugin(scripts, 1)[3:-2], "-p", "no:xdist"])
        profiler.disable()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    stats = pstats.Stats(profiler)
    own: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "pytest_usacloud_sandbox" in filename:
            key = filename.split("pytest_usacloud_sandbox/")[-1]
        elif "subprocess" in filename or "selectors" in filename:
            key = "(stdlib: subprocess + selectors)"
        elif "/_pytest/" in filename or "/pluggy/" in filename:
            key = "(pytest + pluggy)"
        elif filename == "~":  # a builtin: name it (waiting on the child shows here)
            key = f"(builtin) {_name}"
        else:
            key = "(other Python)"
        own[key] += tottime
    n = len(list(scripts.glob("*.usacloud")))
    total = sum(own.values())
    print(f"\nprofile, one process, {n} scripts: {total / n * 1000:.2f} ms per script in all (own time per module)")
    for key, seconds in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {seconds / n * 1000:7.3f} ms/script  {seconds / total:6.1%}  {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--scripts", type=int, default=200)
    parser.add_argument("-w", "--workers", type=int, default=4)
    parser.add_argument("-r", "--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also profile the plugin in one process")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(machine_info())
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp_name:
        tmp = Path(tmp_name)
        scripts, plain = make_jobs(tmp, args.scripts)
        env = bench_env(tmp)
        times: dict[str, list[float]] = {"plugin": [], "xdist": [], "parallel": []}
        for rep in range(args.repeat):
            times["plugin"].append(timed(argv_plugin(scripts, args.workers), env, tmp))
            times["xdist"].append(timed(argv_xdist(plain, args.workers), env, tmp))
            times["parallel"].append(timed_parallel(args.scripts, args.workers, env))
            print(
                f"  run {rep + 1}: plugin {times['plugin'][-1]:.2f}s  xdist {times['xdist'][-1]:.2f}s  "
                f"parallel {times['parallel'][-1]:.2f}s  (load {load_now()})"
            )
        med = {k: statistics.median(v) for k, v in times.items()}
        per_script = (med["plugin"] - med["xdist"]) / args.scripts * args.workers
        print(
            f"\n{args.scripts} one-command scripts, -n {args.workers}, instant binary, medians of {args.repeat}:\n"
            f"  plugin / plain xdist   = {med['plugin'] / med['xdist']:.2f}  (target <= 1.30)\n"
            f"  plugin / GNU parallel  = {med['plugin'] / med['parallel']:.2f}\n"
            f"  plain xdist / parallel = {med['xdist'] / med['parallel']:.2f}\n"
            f"  plugin's own cost over plain xdist: {per_script * 1000:.1f} ms per script per worker"
        )
        if args.profile:
            profile_plugin(scripts, env, args.top)


if __name__ == "__main__":
    main()
