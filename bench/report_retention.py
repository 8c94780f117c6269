"""What the xdist controller keeps per script (run by hand, prints numbers; explains bench/scale.py).

Runs the inner pytest *in this process* (so this process is the xdist controller) on ``--scripts``
one-command scripts with ``-n 4``, unlimited rate, and a probe plugin that, at session finish,
measures what is still referenced: pytest's TerminalReporter keeps every TestReport in
``terminalreporter.stats`` (setup, call and teardown reports, for the final "N passed" line and
the short summary), and each call report carries the plugin's ``report.usacloud`` (the script's
record, attached in plugin.pytest_runtest_makereport). Prints the deep size per script of each
kind of report and of ``report.usacloud``, and tracemalloc's top allocation sites. Also times the
controller's wind-down: last script report -> session finish -> terminal summary -> unconfigure
-> pytest.main returns.

    python bench/report_retention.py [--scripts 600]
    python bench/report_retention.py --workers 0   # no xdist: also what each item keeps (as on a worker)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest
from _e2e import bench_env, machine_info, standin_binary


def deep_size(obj, seen: set | None = None) -> int:
    """sys.getsizeof over dicts, lists, tuples, sets and instance __dict__s, each object once."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        size += sum(deep_size(x, seen) for x in obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        size += deep_size(obj.__dict__, seen)
    return size


class Probe:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.times: dict[str, float] = {}

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "teardown":
            self.times["last script report"] = time.time()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session) -> None:
        self.times["sessionfinish"] = time.time()
        self.session = session

    @pytest.hookimpl(tryfirst=True)
    def pytest_terminal_summary(self) -> None:
        self.times["terminal summary"] = time.time()

    @pytest.hookimpl(tryfirst=True)
    def pytest_unconfigure(self) -> None:
        self.times["unconfigure"] = time.time()
        started = time.time()
        self.measure(self.session)  # last, so that the times above do not include it
        self.measuring = time.time() - started

    def measure(self, session) -> None:
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        reports = [r for kept in tr.stats.values() for r in kept if hasattr(r, "when")]
        calls = [r for r in reports if r.when == "call"]
        n = max(1, len(calls))
        sizes = Counter()
        for r in reports:
            fields = {k: v for k, v in r.__dict__.items() if k != "node"}  # node: the shared WorkerController
            sizes[r.when] += deep_size(fields)
            if r.when == "call":
                sizes["report.usacloud"] += deep_size(getattr(r, "usacloud", None))
        kept = {k or "(setup/teardown)": len(v) for k, v in tr.stats.items()}
        records = [item.record for item in session.items if getattr(item, "record", None) is not None]
        if records:  # a lone process (--workers 0): the items are here, as they are on each xdist worker
            self.lines.append(
                f"UsacloudItem.record still held by {len(records)} items after they ran: "
                f"{sum(deep_size(r) for r in records) / len(records) / 1024:.2f} kB/script (deep)"
            )
        self.lines.append(f"terminalreporter.stats holds: {kept}")
        total = sizes["setup"] + sizes["call"] + sizes["teardown"]
        self.lines.append(
            "deep size per script: "
            + ", ".join(f"{k} {v / n / 1024:.2f} kB" for k, v in sizes.items())
            + f"; all three reports {total / n / 1024:.2f} kB, of which report.usacloud "
            f"{sizes['report.usacloud'] / max(1, total):.0%}"
        )
        snap = tracemalloc.take_snapshot()
        self.lines.append(
            "tracemalloc, top allocation sites of what is still alive (totals; imports and the "
            "command tree are fixed costs, execnet's unserializer builds the reports received from workers):"
        )
        for stat in snap.statistics("filename")[:6]:
            self.lines.append(
                f"  {stat.size / 2**20:6.2f} MB = {stat.size / n / 1024:5.2f} kB/script  {stat.traceback[0].filename}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=600)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    print(machine_info())
    tmp = Path(tempfile.mkdtemp(prefix="bench-retention-"))
    scripts = tmp / "scripts"
    scripts.mkdir()
    for i in range(args.scripts):
        (scripts / f"s{i:05d}.usacloud").write_text("usacloud zone list\n")
    env = bench_env(tmp, STANDIN_STATE=None, STANDIN_LOG=None)
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = env["TMPDIR"]  # the plugin's run directory goes there, not to /tmp
    probe = Probe()
    tracemalloc.start()
    try:
        code = pytest.main(
            [
                "-p",
                "xdist.plugin",
                "-p",
                "pytest_usacloud_sandbox.plugin",
                f"--usacloud-scripts={scripts}",
                f"--usacloud-bin={standin_binary(tmp)}",
                "-p",
                "no:cacheprovider",
                f"--rootdir={scripts}",
                "-q",
                "-n",
                str(args.workers),
                "--usacloud-rate=unlimited",
                "--usacloud-progress=off",
            ],
            plugins=[probe],
        )
    except Exception as exc:
        code = f"crashed after the run: {type(exc).__name__}: {exc}"
    ended = time.time() - getattr(probe, "measuring", 0.0)
    print(f"\n{args.scripts} scripts, -n {args.workers}, exit {code}")
    for line in probe.lines:
        print(line)
    steps = [*sorted(probe.times.items(), key=lambda kv: kv[1]), ("pytest.main returned", ended)]
    print("controller wind-down: " + " | ".join(f"{name} +{(t - steps[0][1]):.2f}s" for name, t in steps))


if __name__ == "__main__":
    main()
