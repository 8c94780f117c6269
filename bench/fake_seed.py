"""Fake mode: a script's first command with and without the run's seeded store (run by hand).

The real usacloud seeds a new fake store path on its first command (the fake catalogue, ~196 KB,
about 7 s of CPU); later commands on that store take ~0.1 s. The plugin seeds one store once per
run (``usacloud zone list -q``) and gives every script a copy (run/fakestore.py).

This bench runs the same scripts twice, one run after the other, against the stand-in with
``STANDIN_SEED_COST=S`` (CPU seconds burnt on the first use of a store path, as the real one does):

* **with seeding**: ``--usacloud-fake`` as it is;
* **without**: the same run with the seeding command made to fail (a STANDIN_RULES rule on the
  seeding ``zone list -q``, which no script uses). That is the plugin's fallback, and what it did
  before: every script seeds its own store on its first command.

From each run's JSON report it takes each script's first command's duration and its later
commands', and prints the medians, the first-command ratio (without / with), first / later within
each run, and each run's wall time. Every command takes ~0.05-0.3 s of the stand-in's own start-up.

    python bench/fake_seed.py [--scripts 6] [--commands 3] [--seed-cost 2.0] [--workers 2] [--slow-standin]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _e2e import (
    bench_env,
    finish,
    load_now,
    load_report,
    machine_info,
    median,
    pytest_argv,
    standin_binary,
    start_pytest,
    tail,
)
from standin_tools import write_rules

SEED_LINE = re.compile(r"fake mode: .*")


def one_run(tmp: Path, label: str, args, seeding: bool) -> dict:
    base = tmp / label
    scripts = base / "scripts"
    scripts.mkdir(parents=True)
    for n in range(args.scripts):
        lines = [f"usacloud switch create -y --name sw{n} -q"]
        lines += [f"usacloud switch read --argument-match-mode exact sw{n} -q"] * (args.commands - 1)
        (scripts / f"s{n:02d}.usacloud").write_text("\n".join(lines) + "\n")
    env = bench_env(base, STANDIN_STATE=None, STANDIN_SEED_COST=args.seed_cost)
    if not seeding:
        rules = write_rules(base / "rules.json", [{"match": "zone list -q", "stderr": "seeding off for the bench"}])
        env["STANDIN_RULES"] = str(rules)
    report = base / "report.json"
    argv = pytest_argv(
        scripts,
        standin_binary(base, args.slow_standin),
        "--usacloud-fake",
        "--usacloud-rate=unlimited",
        f"--usacloud-report={report}",
        workers=args.workers,
    )
    out = base / "pytest.out"
    t0 = time.monotonic()
    code = finish(start_pytest(argv, env, base, out), timeout=1800)
    wall = time.monotonic() - t0
    if code != 0:
        raise SystemExit(f"{label}: inner pytest exited {code}\n{tail(out, 30)}")
    doc = load_report(report)
    first = [s["commands"][0]["duration"] for s in doc["scripts"]]
    later = [c["duration"] for s in doc["scripts"] for c in s["commands"][1:]]
    line = next((m.group(0) for m in SEED_LINE.finditer(out.read_text())), "")
    return {"first": first, "later": later, "wall": wall, "line": line}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=6)
    parser.add_argument("--commands", type=int, default=3, help="commands per script (at least 2)")
    parser.add_argument("--seed-cost", type=float, default=2.0, help="CPU seconds of a store's first use")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slow-standin", action="store_true")
    args = parser.parse_args()
    args.commands = max(2, args.commands)
    print(machine_info())
    print(
        f"{args.scripts} scripts x {args.commands} commands, -n {args.workers}, "
        f"STANDIN_SEED_COST={args.seed_cost:g} CPU s, load {load_now()}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-fake-seed-") as tmp:
        runs = {}
        for label, seeding in (("with", True), ("without", False)):
            runs[label] = one_run(Path(tmp), label, args, seeding)
            r = runs[label]
            print(
                f"{label:>7} seeding: first command median {median(r['first']):6.2f}s "
                f"(min {min(r['first']):.2f} max {max(r['first']):.2f}) | later commands median "
                f"{median(r['later']):6.2f}s | first/later {median(r['first']) / median(r['later']):5.1f}x "
                f"| run wall {r['wall']:6.1f}s | load {load_now()}"
            )
            print(f"         {r['line']}")
        with_, without = runs["with"], runs["without"]
        print(
            f"first-command time without / with seeding: {median(without['first']) / median(with_['first']):.1f}x; "
            f"run wall time without / with: {without['wall'] / with_['wall']:.2f}x"
        )


if __name__ == "__main__":
    main()
