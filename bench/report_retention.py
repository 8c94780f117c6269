"""What the xdist controller keeps per script (run by hand, prints numbers; explains bench/scale.py).

Runs the inner pytest *in this process* (so this process is the xdist controller) on ``--scripts``
one-command scripts with ``-n 4``, unlimited rate, and a probe plugin that, at session finish,
measures what is still referenced: pytest's TerminalReporter keeps every TestReport in
``terminalreporter.stats`` (setup, call and teardown reports, for the final "N passed" line and
the short summary). A script's record crosses xdist in its call report's serialized data but is
not an attribute of any report: it is in flight (``record.inflight.InFlight``) only while its
reports are logged. Prints the deep size per script of each kind of report (and of any attribute
a report still carries beyond pytest's and xdist's own), the records still in flight and still
alive, and tracemalloc's top allocation sites. Also times the controller's
wind-down: last script report -> session finish -> terminal summary -> unconfigure -> pytest.main
returns.

    python bench/report_retention.py [--scripts 600]
    python bench/report_retention.py --workers 0   # no xdist: also what each item keeps (as on a worker)
"""

from __future__ import annotations

import argparse
import gc
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

#: what a TestReport has of pytest's own (``TestReport.__init__``) and of xdist's; the rest a plugin added
PYTEST_FIELDS = frozenset(
    {"nodeid", "location", "keywords", "outcome", "longrepr", "when", "user_properties", "sections", "duration"}
    | {"start", "stop", "wasxfail", "item_index", "worker_id", "testrun_uid", "$report_type"}
)


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
        from pytest_usacloud_sandbox.items import RECORDS_KEY
        from pytest_usacloud_sandbox.record.command import CommandRecord
        from pytest_usacloud_sandbox.record.script import ScriptRecord

        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        reports = [r for kept in tr.stats.values() for r in kept if hasattr(r, "when")]
        calls = [r for r in reports if r.when == "call"]
        n = max(1, len(calls))
        sizes = Counter()
        for r in reports:
            fields = {k: v for k, v in r.__dict__.items() if k != "node"}  # node: the shared WorkerController
            sizes[r.when] += deep_size(fields)
            if r.when == "call":  # what a call report carries beyond pytest's and xdist's own
                sizes["plugin attributes"] += sum(deep_size(v) for k, v in fields.items() if k not in PYTEST_FIELDS)
        extra = sorted({k for r in calls for k in r.__dict__ if k not in PYTEST_FIELDS and k != "node"})
        self.lines.append(f"call reports' attributes beyond pytest's and xdist's: {extra or 'none'}")
        kept = {k or "(setup/teardown)": len(v) for k, v in tr.stats.items()}
        records = session.config.stash.get(RECORDS_KEY, None)
        self.lines.append(f"records still in flight: {len(records) if records is not None else 'none (inert)'}")
        held = [name for item in session.items for name in ("record", "failing_line") if hasattr(item, name)]
        self.lines.append(f"items with a record attribute after they ran: {len(held)}")
        self.lines.append(f"terminalreporter.stats holds: {kept}")
        total = sizes["setup"] + sizes["call"] + sizes["teardown"]
        self.lines.append(
            "deep size per script: "
            + ", ".join(f"{k} {v / n / 1024:.2f} kB" for k, v in sizes.items())
            + f"; all three reports {total / n / 1024:.2f} kB"
        )
        alive = Counter(type(o).__name__ for o in gc.get_objects() if isinstance(o, (ScriptRecord, CommandRecord)))
        self.lines.append(f"records alive at the end (ScriptRecord, CommandRecord): {dict(alive) or 'none'}")
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
