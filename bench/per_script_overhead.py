"""Per-script overhead in commands mode against plain pytest-xdist and GNU parallel.

Three ways to run the same N one-command jobs with an *instant* usacloud (``/bin/true``), each
measured as the wall time of the whole process, in the same run, interleaved, repeated:

* ``plugin``: ``pytest --usacloud-scripts=DIR -n W`` over N scripts of one ``usacloud zone list``
  (rate unlimited: the limiter is not what is measured here).
* ``xdist``: plain ``pytest -n W`` over N parametrised tests, each running the same subprocess.
* ``parallel``: GNU parallel (or ``xargs -P`` without it) running the same N subprocesses.

Prints the medians, the ratio plugin/xdist (target <= 1.3) and the overhead per script in ms. Each
run's CPU time (user + system, of the whole process tree: pytest, its workers, every child) is
printed too: on this shared 2-core machine it moves much less with the other processes' load than
the wall time does, and with more workers than cores the wall time follows it.

The package's bytecode is compiled first (as ``pip install`` does): with
``PYTHONDONTWRITEBYTECODE`` set and no ``__pycache__``, each of the W + 1 processes would compile
every module from source (the 340 kB command table alone), which is not what an installed plugin
costs. Then both pytest runs are made once, untimed, with bytecode writing on, so that pytest's
cache of assertion-rewritten modules holds what each rewrites in every process (the plugin module
named with ``-p``; plain xdist's test module), as it does from a project's second run on.

``--profile`` then runs the plugin and plain xdist once more each with ``-p _profile_plugin``
(bench/_profile_plugin.py): the CPU time of every process per phase (start-up, configure,
collection, the test loop, the end), plugin against plain xdist, per script; and, from cProfile
runs of the same, where a worker's and the controller's test-loop time goes (parsing, check,
policy, masking, the runner, the record, the counters, the report crossing xdist...).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from _e2e import INNER_PLUGINS, ROOT, bench_env, load_now, machine_info  # noqa: E402 -- needs the sys.path line

INSTANT = "/bin/true"
PHASES = ("start", "configure", "collect", "run", "finish")

# Where a worker's test loop goes: disjoint call subtrees, by "file:function" (regex); the rest is
# pytest's own protocol. Cumulative times from cProfile (this thread's CPU time).
WORKER_PARTS = (
    ("read + parse the script", r"script/parse\.py:(read_script_text|parse_script)$"),
    ("offline check", r"usacloud/check\.py:check_command$"),
    ("policy", r"usacloud/policy\.py:apply$"),
    ("masking (secrets from env, profiles, flags; text)", r"usacloud/mask\.py:(from_sources|text|words)$"),
    ("child environment", r"run/execute\.py:env_for$"),
    ("runner: start, pump, reap (+ registry files)", r"run/runner\.py:run_command$"),
    ("record -> wire text for the report", r"record/script\.py:to_wire$"),
    ("live counters to the controller", r"state/shared\.py:publish$"),
    ("item.location / reportinfo", r"items\.py:location$"),
    ("reports to the controller (xdist serialise + send)", r"xdist/remote\.py:sendevent$"),
)
CONTROLLER_PARTS = (
    ("the plugin's reporter (run log, counts)", r"controller\.py:pytest_runtest_logreport$"),
    ("the plugin's logstart", r"controller\.py:pytest_runtest_logstart$"),
    ("pytest's terminal reporter", r"_pytest/terminal\.py:pytest_runtest_logreport$"),
    ("xdist: waiting for and taking events", r"queue\.py:get$"),
)


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


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict, cwd: Path, stdin: bytes | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process tree)."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, input=stdin, capture_output=True, check=False)
    elapsed, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{proc.stdout.decode()[-2000:]}")
    return elapsed, cpu


def argv_plugin(scripts: Path, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "pytest", *INNER_PLUGINS, f"--usacloud-scripts={scripts}",
        f"--usacloud-bin={INSTANT}", "--usacloud-rate=unlimited", "--usacloud-progress=off",
        "--no-usacloud-preflight",  # the instant binary prints no version: the preflight would stop the run
        "-p", "no:cacheprovider", f"--rootdir={scripts}", "-q", "-n", str(workers),
    ]  # fmt: skip


def argv_xdist(plain: Path, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "pytest", "-p", "xdist.plugin", "-p", "no:cacheprovider",
        f"--rootdir={plain}", "-q", "-n", str(workers), str(plain),
    ]  # fmt: skip


def argv_parallel(n: int, workers: int) -> tuple[list[str], bytes]:
    jobs = ("\n".join(str(i) for i in range(n)) + "\n").encode()
    if shutil.which("parallel"):
        return ["parallel", "-j", str(workers), INSTANT, "zone", "list", "{}"], jobs
    return ["xargs", "-P", str(workers), "-n", "1", INSTANT, "zone", "list"], jobs


def compile_package() -> None:
    """The bytecode an installed plugin has (written once; PYTHONDONTWRITEBYTECODE stops imports doing it)."""
    compileall.compile_dir(str(ROOT / "pytest_usacloud_sandbox"), quiet=1)


def warm_up(runs: list[list[str]], env: dict, cwd: Path) -> None:
    """One untimed collection of each run with bytecode writing on: pytest's rewritten-module cache."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for argv in runs:
        timed([*argv, "--collect-only"], env, cwd)


# -- --profile ----------------------------------------------------------------------------------


def with_profiler(argv: list[str]) -> list[str]:
    return [*argv[:3], "-p", "_profile_plugin", *argv[3:]]  # first: imported before the plugins it measures


def profiled_run(argv: list[str], env: dict, cwd: Path, out: Path, cprofile: bool) -> dict[str, dict[str, float]]:
    """{"controller": {phase: s}, "workers": {phase: s, summed}} of one run under _profile_plugin."""
    out.mkdir(parents=True)
    env = dict(env, BENCH_PROFILE_DIR=str(out), BENCH_PROFILE="1" if cprofile else "0")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BENCH), env.get("PYTHONPATH", "")) if p)
    timed(with_profiler(argv), env, cwd)
    phases: dict[str, dict[str, float]] = {"controller": dict.fromkeys(PHASES, 0.0), "workers": {}}
    for path in out.glob("*.json"):
        role = "controller" if path.stem == "controller" else "workers"
        for phase, seconds in json.loads(path.read_text()).items():
            phases[role][phase] = phases[role].get(phase, 0.0) + seconds
    return phases


def parts(stats: pstats.Stats, table, total: float) -> list[tuple[str, float]]:
    found = {label: 0.0 for label, _ in table}
    for (filename, _line, name), (_cc, _nc, _tt, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{name}"
        for label, pattern in table:
            if re.search(pattern, where):
                found[label] += cumtime
                break
    rows = sorted(found.items(), key=lambda kv: -kv[1])
    return [*rows, ("the rest (pytest's protocol, pluggy, xdist)", total - sum(found.values()))]


def loop_total(stats: pstats.Stats) -> float:
    return max(cum for (_f, _l, name), (_cc, _nc, _tt, cum, _c) in stats.stats.items() if name == "pytest_runtestloop")  # type: ignore[attr-defined]


def print_profile(tmp: Path, scripts: Path, plain: Path, args, env: dict) -> None:
    n, w = args.scripts, args.workers
    runs = {"plugin": argv_plugin(scripts, w), "xdist": argv_xdist(plain, w)}
    phases: dict[str, list[dict]] = {k: [] for k in runs}
    for rep in range(args.repeat):
        for name, argv in runs.items():
            phases[name].append(profiled_run(argv, env, tmp, tmp / f"phases-{name}-{rep}", cprofile=False))
    print(f"\nCPU time per phase (every thread; median of {args.repeat}), ms per script (x{n} scripts):")
    print(f"  {'':22s}{'plugin':>10s}{'xdist':>10s}{'extra':>10s}   (seconds: plugin / xdist)")
    for role in ("controller", "workers"):
        for phase in PHASES:
            got = {k: statistics.median(r[role].get(phase, 0.0) for r in v) for k, v in phases.items()}
            print(
                f"  {role + ' ' + phase:22s}{got['plugin'] / n * 1000:10.2f}{got['xdist'] / n * 1000:10.2f}"
                f"{(got['plugin'] - got['xdist']) / n * 1000:10.2f}   ({got['plugin']:.3f} / {got['xdist']:.3f})"
            )
    run_cpu = statistics.median(r["workers"]["run"] for r in phases["plugin"])
    ctl_cpu = statistics.median(r["controller"]["run"] for r in phases["plugin"])
    out = tmp / "cprofile-plugin"
    profiled_run(runs["plugin"], env, tmp, out, cprofile=True)
    workers = pstats.Stats(*[str(p) for p in out.glob("gw*.run.prof")])
    total = loop_total(workers)
    print(f"\nplugin, a worker's test loop under cProfile ({total:.2f} s profiled; shares scaled to the unprofiled")
    print(f"{run_cpu / n * 1000:.2f} ms of CPU per script):")
    for label, seconds in parts(workers, WORKER_PARTS, total):
        print(f"  {seconds / total * run_cpu / n * 1000:7.3f} ms/script  {seconds / total:6.1%}  {label}")
    controller = pstats.Stats(str(out / "controller.run.prof"))
    total = loop_total(controller)
    print(f"\nplugin, the controller's test loop ({ctl_cpu / n * 1000:.2f} ms of CPU per script, every thread):")
    for label, seconds in parts(controller, CONTROLLER_PARTS, total):
        print(f"  {seconds / total * ctl_cpu / n * 1000:7.3f} ms/script  {seconds / total:6.1%}  {label}")
    if args.top:
        print(f"\nthe worker's test loop, top {args.top} functions by own time:")
        workers.sort_stats("tottime").print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--scripts", type=int, default=200)
    parser.add_argument("-w", "--workers", type=int, default=4)
    parser.add_argument("-r", "--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also the CPU per phase and a cProfile breakdown")
    parser.add_argument("--top", type=int, default=0, help="with --profile: the top functions of a worker's loop")
    args = parser.parse_args()
    compile_package()
    print(machine_info())
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp_name:
        tmp = Path(tmp_name)
        scripts, plain = make_jobs(tmp, args.scripts)
        env = bench_env(tmp)
        warm_up([argv_plugin(scripts, args.workers), argv_xdist(plain, args.workers)], env, tmp)
        par_argv, par_jobs = argv_parallel(args.scripts, args.workers)
        wall: dict[str, list[float]] = {"plugin": [], "xdist": [], "parallel": []}
        cpu: dict[str, list[float]] = {k: [] for k in wall}
        for rep in range(args.repeat):
            for name, (argv, stdin) in {
                "plugin": (argv_plugin(scripts, args.workers), None),
                "xdist": (argv_xdist(plain, args.workers), None),
                "parallel": (par_argv, par_jobs),
            }.items():
                seconds, cpu_seconds = timed(argv, env, tmp, stdin)
                wall[name].append(seconds)
                cpu[name].append(cpu_seconds)
            print(
                f"  run {rep + 1}: "
                + "  ".join(f"{k} {wall[k][-1]:.2f}s (cpu {cpu[k][-1]:.2f}s)" for k in wall)
                + f"  (load {load_now()})"
            )
        med = {k: statistics.median(v) for k, v in wall.items()}
        mcpu = {k: statistics.median(v) for k, v in cpu.items()}
        per_script = (med["plugin"] - med["xdist"]) / args.scripts * args.workers
        print(
            f"\n{args.scripts} one-command scripts, -n {args.workers}, instant binary, medians of {args.repeat}:\n"
            f"  plugin / plain xdist   = {med['plugin'] / med['xdist']:.2f}  (target <= 1.30)"
            f"   CPU: {mcpu['plugin'] / mcpu['xdist']:.2f}\n"
            f"  plugin / GNU parallel  = {med['plugin'] / med['parallel']:.2f}"
            f"   CPU: {mcpu['plugin'] / mcpu['parallel']:.2f}\n"
            f"  plain xdist / parallel = {med['xdist'] / med['parallel']:.2f}"
            f"   CPU: {mcpu['xdist'] / mcpu['parallel']:.2f}\n"
            f"  plugin's own cost over plain xdist: {per_script * 1000:.1f} ms per script per worker (wall), "
            f"{(mcpu['plugin'] - mcpu['xdist']) / args.scripts * 1000:.1f} ms of CPU per script (all processes)\n"
            f"  load average now {load_now()}"
        )
        if args.profile:
            print_profile(tmp, scripts, plain, args, env)


if __name__ == "__main__":
    main()
